"""Django settings -> AWS settings, topology, publishers and consumer routes.

The one module of ``transport`` that reads Django settings: the rest is plain
Python and takes an :class:`~shared_events.transport.clients.AwsSettings`.

Read lazily (never at import), so a test can override settings. The topology
is ensured once per process, on first use: ``ensure_topology`` is idempotent,
so a service that starts before ``aws_bootstrap`` ran still finds its topic
and queues.
"""

from __future__ import annotations

import threading

from django.conf import settings

from shared_events.event_keys import encode_signed
from shared_events.telemetry.tracing import tracing_on
from shared_events.transport.aws_publishers import SnsPublisher, SqsPublisher
from shared_events.transport.clients import AwsSettings, client
from shared_events.transport.kinesis_publisher import KinesisPublisher
from shared_events.transport.provisioning import TopologyReport, ensure_topology
from shared_events.transport.publisher import EventPublisher, outgoing_message
from shared_events.transport.routes import ConsumerSettings, Routes, resolve_routes
from shared_events.transport.throttle_injection import InjectedThrottle
from shared_events.transport.topology import (
    JOINING_CONSUMERS,
    Topology,
    TopologyError,
    platform_topology,
    tracking_name,
)
from shared_events.transport.traced_publisher import TracedPublisher

_lock = threading.Lock()
_routes: dict[tuple, Routes] = {}


def aws_settings() -> AwsSettings:
    return AwsSettings(
        endpoint_url=settings.AWS_ENDPOINT_URL or None,
        region=settings.AWS_REGION,
        # FAULT_INJECTION=throttle_aws:...: throttling answers, on purpose.
        throttle=InjectedThrottle.from_setting(settings.FAULT_INJECTION),
    )


def topology() -> Topology:
    """The platform's topology as this process sees it: a joining service's
    (analytics) adds its own inbox, which no other process knows of."""
    service = getattr(settings, "SERVICE_NAME", "")
    return platform_topology(
        joining=(service,) if service in JOINING_CONSUMERS else (),
        prefix=settings.EVENT_TOPOLOGY_PREFIX,
        fifo=settings.EVENT_FIFO,
        delivery=settings.EVENT_DELIVERY,
        max_receive_count=settings.EVENT_MAX_RECEIVE_COUNT,
        visibility_timeout=settings.EVENT_VISIBILITY_TIMEOUT,
        read_side=settings.APPROACH_HAS_READ_SIDE,
        kinesis_shards=settings.EVENT_KINESIS_SHARDS,
    )


def bootstrap_topology() -> TopologyReport:
    """Create or repair the SNS topics (or Kinesis streams), SQS queues and
    subscriptions."""
    return ensure_topology(topology(), aws_settings())


def routes() -> Routes:
    current = topology()
    key = (repr(current), aws_settings())
    with _lock:
        if key not in _routes:
            report = ensure_topology(current, aws_settings())
            _routes[key] = resolve_routes(current, report)
        return _routes[key]


def event_publisher(producer: str) -> EventPublisher:
    """The producer's publisher, with a span per event when tracing is on."""
    route = routes().producer(producer)
    if route.delivery == "sns":
        publisher: EventPublisher = SnsPublisher(
            route.topic_arn, aws_settings(), route.fifo
        )
        system, destination = "aws_sns", route.topic_arn.rsplit(":", 1)[-1]
    elif route.delivery == "kinesis":
        publisher = KinesisPublisher(route.stream_name, aws_settings())
        system, destination = "aws_kinesis", route.stream_name
    else:
        publisher = SqsPublisher(route.queue_urls, aws_settings(), route.fifo)
        system, destination = "aws_sqs", f"{producer}-events"
    if not tracing_on():
        return publisher
    return TracedPublisher(publisher, system=system, destination=destination)


def consumer_settings(consumer: str) -> ConsumerSettings:
    """Where a consumer reads: ``customer``/``order`` (the service's inbox) or
    ``customer-read``/``order-read`` (its read side, approach 5)."""
    route = routes().consumer(consumer)
    if route.queue_url is None:
        raise TopologyError(
            f"EVENT_DELIVERY={route.delivery}: {consumer} has no SQS inbox to consume; "
            "its events are on the Kinesis streams "
            f"{', '.join(route.stream_arns) or '(none)'}, read by the event source "
            "mapping runner (run_event_source_mappings), not by consume_events"
        )
    return ConsumerSettings(
        name=tracking_name(consumer),
        queue_url=route.queue_url,
        dead_letter_queue_url=route.dead_letter_queue_url,
        max_receive_count=settings.EVENT_MAX_RECEIVE_COUNT,
        wait_time_seconds=settings.EVENT_CONSUMER_WAIT_SECONDS,
        visibility_timeout=settings.EVENT_VISIBILITY_TIMEOUT,
        batch_window_seconds=settings.EVENT_CONSUMER_BATCH_WINDOW_SECONDS,
        gap_patience_seconds=settings.EVENT_GAP_PATIENCE_SECONDS,
    )


def sqs_client():
    return client("sqs", aws_settings())


class PublishFailed(RuntimeError):
    pass


def publish_now(producer: str, envelopes: list) -> None:
    """Publish envelopes straight away (approach 3's dual write); raise on failure.

    Signed with the producer's key, as the outbox signs what it stores.
    """
    messages = [
        outgoing_message(
            event_id=str(envelope.event_id),
            body=encode_signed(envelope),
            aggregate_id=str(envelope.aggregate_id),
            event_type=envelope.event_type,
            aggregate_type=envelope.aggregate_type,
        )
        for envelope in envelopes
    ]
    result = event_publisher(producer).publish_batch(messages)
    if result.failed:
        raise PublishFailed("; ".join(sorted(set(result.failed.values()))))

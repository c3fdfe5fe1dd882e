"""The platform's Lambda functions: which handler runs from which source.

One table, per service, approach and backend, read by the local event source
mapping runner (``manage.py --service S run_event_source_mappings``), by the
process table (a service with mappings runs that runner) and by the deploy
templates' test (one ``AWS::Lambda::EventSourceMapping`` per entry), so the
laptop and AWS run the same functions from the same sources with the same
settings.

What a learner should notice:

* ``EVENT_DELIVERY=kinesis`` (approaches 3 to 5): there are no inboxes to
  long-poll. Each service's consumer (``functions.consume_events``) reads the
  streams of the producers it listens to, and under approach 5 each projector
  (``functions.project_events``) reads every producer's stream. A record that
  keeps failing is bisected down to itself and, after the retries, reported
  to the consumer's dead-letter queue: the shard goes on.
* ``EVENT_STORE=dynamodb`` (approaches 4 and 5): the event table's stream is
  the outbox. ``functions.publish_committed`` publishes each commit, retried
  forever and never bisected or dropped: a record given up on would be an
  event lost for good. Under approach 5 ``functions.project_events`` also
  reads the stream, projecting the service's own commits straight into the
  read database: the paper's DynamoDB -> Streams -> Lambda -> Aurora figure.
  The broker's copy of those events then reaches the projector as a
  duplicate, which its idempotent core records and skips.
* With the defaults (SNS fan-out to SQS, the PostgreSQL event store) the
  table is empty: long-running consumers and the Celery relay do the work.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from shared_events.approaches import (
    ApproachInfo,
    EventStoreBackend,
    Persistence,
    approach_info,
)
from shared_events.event_source_mapping.mappings import (
    EventSourceMapping,
    SourceKind,
    StartingPosition,
)
from shared_events.transport.topology import Topology

#: Records per invocation, as AWS's default for streams.
STREAM_BATCH_SIZE = 100
#: The handler modules every service has, in ``<service>_service/functions/``.
FUNCTIONS = ("consume_events", "project_events", "publish_committed")

LambdaHandler = Callable[[dict, Any], dict]


def function_path(service: str, function: str) -> str:
    """The dotted path of one of a service's handler modules."""
    return f"{service}_service.functions.{function}.handler"


def platform_mappings(
    *,
    service: str,
    approach: ApproachInfo | str,
    delivery: str,
    store: str,
    topology: Topology,
    retries: int,
) -> list[EventSourceMapping]:
    """Every event source mapping ``service`` runs; empty with the defaults.

    ``retries`` bounds a consumer's or projector's retries of a failing
    batch (``EVENT_MAX_RECEIVE_COUNT``, as the inboxes' redrive does).
    """
    info = approach if isinstance(approach, ApproachInfo) else approach_info(approach)
    mappings: list[EventSourceMapping] = []
    if delivery == "kinesis" and info.uses_events:
        consumers = [(service, "consume_events")]
        if info.read_side:
            consumers.append((f"{service}-read", "project_events"))
        for consumer, function in consumers:
            for producer in topology.consumers.get(consumer, []):
                mappings.append(
                    _stream_mapping(
                        name=f"{consumer}-{_verb(function)}-{producer}-events",
                        function=function_path(service, function),
                        kind=SourceKind.KINESIS,
                        source=topology.stream_name(producer),
                        retries=retries,
                        on_failure=topology.dead_letter_queue_name(consumer),
                    )
                )
    event_sourced = info.persistence(service) is Persistence.EVENT_SOURCED
    if store == EventStoreBackend.DYNAMODB and event_sourced:
        table = topology.event_table_name(service)
        mappings.append(
            EventSourceMapping(
                name=f"{service}-publish-committed",
                function=function_path(service, "publish_committed"),
                source_kind=SourceKind.DYNAMODB_STREAM,
                source_name=table,
                batch_size=STREAM_BATCH_SIZE,
                starting_position=StartingPosition.TRIM_HORIZON,
                # The stream is the outbox: never give a commit up.
                maximum_retry_attempts=-1,
            )
        )
        if info.read_side:
            consumer = f"{service}-read"
            mappings.append(
                _stream_mapping(
                    name=f"{consumer}-project-committed",
                    function=function_path(service, "project_events"),
                    kind=SourceKind.DYNAMODB_STREAM,
                    source=table,
                    retries=retries,
                    on_failure=topology.dead_letter_queue_name(consumer),
                )
            )
    return mappings


def _stream_mapping(
    *,
    name: str,
    function: str,
    kind: SourceKind,
    source: str,
    retries: int,
    on_failure: str,
) -> EventSourceMapping:
    return EventSourceMapping(
        name=name,
        function=function,
        source_kind=kind,
        source_name=source,
        batch_size=STREAM_BATCH_SIZE,
        starting_position=StartingPosition.TRIM_HORIZON,
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=retries,
        on_failure_queue=on_failure,
    )


def _verb(function: str) -> str:
    return "consume" if function == "consume_events" else "project"


def service_mappings(service: str) -> list[EventSourceMapping]:
    """The mappings of ``service`` under the running configuration (Django settings)."""
    from django.conf import settings

    from shared_events.transport import messaging

    return platform_mappings(
        service=service,
        approach=settings.ARCHITECTURE_APPROACH,
        delivery=settings.EVENT_DELIVERY,
        store=settings.EVENT_STORE,
        topology=messaging.topology(),
        retries=settings.EVENT_MAX_RECEIVE_COUNT,
    )


def lambda_entry(*, service: str, function: str) -> LambdaHandler:
    """The ``handler(event, context)`` of one of ``service``'s function modules.

    Called once, when the module is imported (a Lambda's cold start): it starts
    Django with the service's settings, so the composition root installs the
    service's wiring. Each call then hands AWS's event document to the shared
    core: the idempotent consumer core (``consume_events``: the service's
    inbox handlers; ``project_events``: the read side's projections, in the
    read database) or the stream-as-outbox publisher (``publish_committed``).
    """
    if function not in FUNCTIONS:
        raise ValueError(f"unknown function {function!r}; one of {FUNCTIONS}")
    settings_module = f"{service}_service.config.settings"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()
    # Imported once Django is set up: the wiring's models need the app registry.
    from shared_events.composition import service_wiring
    from shared_events.consume.lambda_handler import process_batch, read_side_database
    from shared_events.outbox.stream_relay import publish_committed
    from shared_events.transport import messaging

    def consume_events(event: dict, context: Any) -> dict:
        return process_batch(
            event, context, consumer=service, handlers=service_wiring().event_handlers
        )

    def project_events(event: dict, context: Any) -> dict:
        return process_batch(
            event,
            context,
            consumer=f"{service}-read",
            handlers=service_wiring().projection_handlers,
            database=read_side_database(),
        )

    def publish(event: dict, context: Any) -> dict:
        return publish_committed(
            event,
            publisher=messaging.event_publisher(service),
            keep_state=service_wiring().keep_state,
            service=service,
        )

    return {
        "consume_events": consume_events,
        "project_events": project_events,
        "publish_committed": publish,
    }[function]

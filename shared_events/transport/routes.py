"""What a producer or consumer needs to know of the topology at run time.

``resolve_routes`` turns a provisioning report into per-service routes,
without calling AWS: a producer's topic (``sns``), inboxes (``sqs``) or
stream (``kinesis``), a consumer's inbox (or, under ``kinesis``, the streams it
reads) and dead-letter queue. ``ConsumerSettings`` adds how a consumer reads
its inbox (batch, long poll, visibility) and where it writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared_events.transport.provisioning import TopologyReport
from shared_events.transport.topology import Delivery, Topology, TopologyError


@dataclass(frozen=True)
class ProducerRoute:
    """Where a producer publishes: its topic (``sns``), the inboxes (``sqs``) or
    its stream (``kinesis``)."""

    producer: str
    delivery: Delivery
    fifo: bool
    topic_arn: str | None
    queue_urls: tuple[str, ...]
    stream_name: str | None = None
    stream_arn: str | None = None


@dataclass(frozen=True)
class ConsumerRoute:
    """Where a consumer reads, and where its failed messages end up.

    Under ``kinesis`` there is no inbox (``queue_url`` is None): the consumer's
    event source mappings read ``stream_arns`` (one per producer it listens to)
    and send what finally failed to ``dead_letter_queue_url``.
    """

    consumer: str
    fifo: bool
    queue_url: str | None
    dead_letter_queue_url: str
    delivery: Delivery = "sns"
    stream_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Routes:
    producers: dict[str, ProducerRoute]
    consumers: dict[str, ConsumerRoute]

    def producer(self, name: str) -> ProducerRoute:
        try:
            return self.producers[name]
        except KeyError:
            raise TopologyError(
                f"{name!r} is not a producer in this topology"
            ) from None

    def consumer(self, name: str) -> ConsumerRoute:
        try:
            return self.consumers[name]
        except KeyError:
            raise TopologyError(
                f"{name!r} is not a consumer in this topology"
            ) from None


def resolve_routes(topology: Topology, report: TopologyReport) -> Routes:
    """Turn a report into per-service routes (no AWS calls)."""
    delivery = topology.delivery
    try:
        producers = {
            producer: ProducerRoute(
                producer=producer,
                delivery=delivery,
                fifo=topology.fifo,
                topic_arn=report.topic_arns[producer] if delivery == "sns" else None,
                queue_urls=(
                    tuple(
                        report.queue_urls[c] for c in topology.subscribers_of(producer)
                    )
                    if delivery == "sqs"
                    else ()
                ),
                stream_name=(
                    topology.stream_name(producer) if delivery == "kinesis" else None
                ),
                stream_arn=(
                    report.stream_arns[producer] if delivery == "kinesis" else None
                ),
            )
            for producer in topology.producers
        }
        consumers = {
            consumer: ConsumerRoute(
                consumer=consumer,
                fifo=topology.fifo,
                queue_url=(
                    None if delivery == "kinesis" else report.queue_urls[consumer]
                ),
                dead_letter_queue_url=report.dead_letter_queue_urls[consumer],
                delivery=delivery,
                stream_arns=(
                    tuple(report.stream_arns[p] for p in producers_of_consumer)
                    if delivery == "kinesis"
                    else ()
                ),
            )
            for consumer, producers_of_consumer in topology.consumers.items()
        }
    except KeyError as missing:
        raise TopologyError(
            f"the report has no entry for {missing}: was it made for this topology?"
        ) from None
    return Routes(producers=producers, consumers=consumers)


@dataclass(frozen=True)
class ConsumerSettings:
    name: str
    queue_url: str
    dead_letter_queue_url: str | None
    max_receive_count: int = 5
    max_messages: int = 10
    wait_time_seconds: int = 5
    visibility_timeout: int = 30
    # After a batch that did not fill, wait this long before the next receive
    # (Lambda's MaximumBatchingWindowInSeconds): a steady trickle then comes
    # in fuller batches, fewer receives and deletes per event, for at most
    # this much more latency. An idle consumer's long poll still answers the
    # first message at once. 0: receive again at once.
    batch_window_seconds: float = 0.0
    # An event ahead of its aggregate is parked (consume.held_events); when the
    # aggregate's cursor has not moved for this long since, the gap is given
    # up on and its parked events dead-lettered.
    gap_patience_seconds: float = 45.0
    # Where the effects and the tracking records are written: the service's
    # own database, or its read database for a read-side (projection) consumer.
    database: str = "default"

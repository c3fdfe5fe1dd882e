"""The platform's messaging topology, as data: who produces, who listens to whom.

The paper's AWS mapping: each *producing* service publishes its events to one SNS
topic; each *consuming* service reads one SQS queue (its inbox), which is
subscribed to the topics of the services it listens to. SNS fans one event out to
every subscribed inbox, so the producer never needs to know who is listening.
The paper's other picture, ``delivery="kinesis"``: each producing service writes
to one Kinesis Data Stream and each consumer reads the streams it listens to.

Things a learner should notice:

* The topology is data (:class:`Topology`): who produces, who listens to whom.
  Names follow from it (``<prefix><producer>-events``, ``<prefix><consumer>-inbox``,
  ``<prefix><consumer>-inbox-dlq``), so every process derives the same names.
* FIFO (``fifo=True``): topics and queues keep order per message group (the
  aggregate id) and drop duplicates by deduplication id (the event id, set by the
  publisher; content-based deduplication is off, since two different events may
  have identical bodies only by accident, and a retry must be recognised by id).
* ``delivery="sqs"`` is the smaller setup without SNS: no topics, and a producer
  sends to every subscribing inbox itself. It works, but the producer now has to
  know its consumers, and one publish becomes several non-atomic sends.
* ``delivery="kinesis"``: one stream per producer (``<prefix><producer>-events``,
  the topic's name), partition key = aggregate id, so one aggregate's events stay
  in one shard, in order. No topics and no inboxes: a consumer reads the stream
  through an event source mapping, which keeps its own position per shard. Each
  consumer keeps its dead-letter queue, the mapping's on-failure destination.
  The shard count is fixed when the stream is created (``kinesis_shards``), and
  ``fifo`` is refused: a stream is ordered per key already, and has no FIFO mode.

Creating it in AWS is ``provisioning``'s job; what a running producer or
consumer needs to know of it, ``routes``'.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Delivery = Literal["sns", "sqs", "kinesis"]
DELIVERIES: tuple[Delivery, ...] = ("sns", "sqs", "kinesis")

PLATFORM_PRODUCERS: tuple[str, ...] = ("customer", "order")
#: consuming service -> the producing services it subscribes to.
PLATFORM_CONSUMERS: Mapping[str, tuple[str, ...]] = {
    "order": ("customer",),
    "customer": ("order",),
}

#: Consumers that join a running platform later (a new team's service), and
#: the producers they subscribe to. Only their own processes put them in the
#: topology (``platform_topology(joining=...)``): the producers' processes
#: neither know nor change their inboxes, so adding one changes no producer.
#: They need SNS: under ``delivery="sqs"`` a producer sends to the inboxes it
#: knows, and under ``"kinesis"`` a consumer reads through a mapping of the
#: producer's process table.
JOINING_CONSUMERS: Mapping[str, tuple[str, ...]] = {"analytics": ("order",)}

LONG_POLL_SECONDS = 20
#: Shards per stream. Kinesis allows far more; this range keeps a local stream
#: cheap, and a learner who needs more changes the limit on purpose.
KINESIS_SHARDS_RANGE = range(1, 17)
#: The longest SQS allows. A message's age counts from its first enqueue, so the
#: dead-letter queue keeps messages longer than the inbox (default 4 days) does.
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600

_FIFO_SUFFIX = ".fifo"
_NAME_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")
_STREAM_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def _valid_name(name: str, *, max_length: int) -> bool:
    """SQS and SNS names: letters, digits, ``-`` and ``_``, plus ``.fifo`` for FIFO."""
    base = name.removesuffix(_FIFO_SUFFIX)
    return len(name) <= max_length and bool(_NAME_CHARACTERS.fullmatch(base))


class TopologyError(RuntimeError):
    """The topology is invalid, or what exists in AWS cannot be made to match it."""


def tracking_name(consumer: str) -> str:
    """The name ``consumer`` records its processed events and cursors under,
    whatever applied them: the long-polling consumer, a Lambda function, or
    a rebuild of its read models (which must leave the cursors the live
    consumer goes on from). Its inbox's name, unprefixed."""
    return f"{consumer}-inbox"


@dataclass(frozen=True, kw_only=True)
class Topology:
    """Who produces events, and who consumes whose events, plus queue settings.

    ``consumers`` maps a consuming service to the producing services it subscribes
    to. ``receive_wait_seconds`` is the queues' default long poll (20 seconds, the
    maximum): a ``ReceiveMessage`` waits for messages instead of returning empty.
    ``kinesis_shards`` is the shard count of every stream (``delivery="kinesis"``).
    """

    prefix: str
    producers: list[str]
    consumers: dict[str, list[str]]
    fifo: bool = False
    max_receive_count: int = 5
    visibility_timeout: int = 30
    delivery: Delivery = "sns"
    receive_wait_seconds: int = LONG_POLL_SECONDS
    kinesis_shards: int = 2

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.delivery not in DELIVERIES:
            problems.append(
                f"delivery must be one of {', '.join(DELIVERIES)}, "
                f"not {self.delivery!r}"
            )
        if self.delivery == "kinesis":
            problems += self._kinesis_problems()
        if len(set(self.producers)) != len(self.producers):
            problems.append(f"producers are listed twice: {self.producers}")
        for consumer, producers in self.consumers.items():
            unknown = sorted(set(producers) - set(self.producers))
            if unknown:
                problems.append(f"{consumer} subscribes to unknown producers {unknown}")
            for name in (
                self.queue_name(consumer),
                self.dead_letter_queue_name(consumer),
            ):
                if not _valid_name(name, max_length=80):
                    problems.append(f"invalid SQS queue name {name!r}")
        for producer in self.producers:
            name = self.topic_name(producer)
            if not _valid_name(name, max_length=256):
                problems.append(f"invalid SNS topic name {name!r}")
        if not 1 <= self.max_receive_count <= 1000:
            problems.append("max_receive_count must be between 1 and 1000")
        if not 0 <= self.visibility_timeout <= 43_200:
            problems.append("visibility_timeout must be between 0 and 43200 seconds")
        if not 0 <= self.receive_wait_seconds <= 20:
            problems.append("receive_wait_seconds must be between 0 and 20")
        if problems:
            raise TopologyError("invalid topology: " + "; ".join(problems))

    def _kinesis_problems(self) -> list[str]:
        problems = []
        if self.fifo:
            problems.append(
                "fifo does not apply to kinesis: a stream keeps order per partition "
                "key (the aggregate id) already, and has no FIFO mode"
            )
        if self.kinesis_shards not in KINESIS_SHARDS_RANGE:
            problems.append(
                f"kinesis_shards must be between {KINESIS_SHARDS_RANGE.start} and "
                f"{KINESIS_SHARDS_RANGE.stop - 1}, not {self.kinesis_shards}"
            )
        for producer in self.producers:
            name = self.stream_name(producer)
            if not _STREAM_NAME.fullmatch(name):
                problems.append(f"invalid Kinesis stream name {name!r}")
        return problems

    def topic_name(self, producer: str) -> str:
        return self._named(f"{producer}-events")

    def stream_name(self, producer: str) -> str:
        """The producer's Kinesis stream: the topic's name (never ``.fifo``)."""
        return f"{self.prefix}{producer}-events"

    def event_table_name(self, service: str) -> str:
        """The service's DynamoDB event table (``EVENT_STORE=dynamodb``), whose
        stream is its outbox."""
        return f"{self.prefix}{service}-events-store"

    def queue_name(self, consumer: str) -> str:
        return self._named(tracking_name(consumer))

    def dead_letter_queue_name(self, consumer: str) -> str:
        return self._named(f"{consumer}-inbox-dlq")

    def subscribers_of(self, producer: str) -> list[str]:
        """The consuming services that listen to ``producer``, in a stable order."""
        return [c for c, producers in self.consumers.items() if producer in producers]

    def _named(self, base: str) -> str:
        return f"{self.prefix}{base}{_FIFO_SUFFIX if self.fifo else ''}"


#: approach 5: each service's query side reads every producer's events.
READ_SIDE_CONSUMERS: Mapping[str, tuple[str, ...]] = {
    "customer-read": PLATFORM_PRODUCERS,
    "order-read": PLATFORM_PRODUCERS,
}


def platform_topology(
    *,
    prefix: str = "",
    fifo: bool = False,
    delivery: Delivery = "sns",
    max_receive_count: int = 5,
    visibility_timeout: int = 30,
    read_side: bool = False,
    kinesis_shards: int = 2,
    joining: tuple[str, ...] = (),
) -> Topology:
    """The platform's topology: Customer and Order each produce and consume.

    With ``read_side`` (approach 5) each service also gets a read-side inbox
    subscribed to both topics, feeding its denormalized read models.
    ``joining`` adds consumers of ``JOINING_CONSUMERS`` (their own processes
    do: an inbox subscribed to topics that exist already).
    """
    consumers = {c: list(p) for c, p in PLATFORM_CONSUMERS.items()}
    if read_side:
        consumers.update({c: list(p) for c, p in READ_SIDE_CONSUMERS.items()})
    unknown = sorted(set(joining) - set(JOINING_CONSUMERS))
    if unknown:
        raise TopologyError(f"no joining consumer named {', '.join(unknown)}")
    consumers.update({c: list(JOINING_CONSUMERS[c]) for c in joining})
    return Topology(
        prefix=prefix,
        producers=list(PLATFORM_PRODUCERS),
        consumers=consumers,
        fifo=fifo,
        delivery=delivery,
        max_receive_count=max_receive_count,
        visibility_timeout=visibility_timeout,
        kinesis_shards=kinesis_shards,
    )

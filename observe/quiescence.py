"""When the platform has gone quiet: nothing left to relay, deliver or apply.

A snapshot taken while events are still on their way cannot tell lag from
loss: a customer missing downstream may be lost, or merely late. The
platform is quiet when every outbox is published, every inbox is empty
(no message waiting, none received but not yet deleted, none delayed) and
every stream read by a Lambda function has nothing past that function's
checkpoint (``observe.stream_backlog``), and stays so for a moment. A
consumer deletes a message, and the event source mapping runner moves its
checkpoint, only after the transaction that applied the events committed,
so an empty inbox or a stream read to its end means every delivered event
was applied (or dead-lettered). Only then is a difference between upstream
and downstream a loss.

The backends change where events wait, not what quiet means: under
``EVENT_DELIVERY=kinesis`` there are no inboxes, the consumers' streams
are; under ``EVENT_STORE=dynamodb`` there is no outbox table, the event
table's stream is the outbox, until ``publish_committed`` got past it.

The lab waits for this after every scenario, bounded by a deadline that
grows with the backlog; the reliability suite waits for it after every round.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg2.errors

from observe.stream_backlog import StreamBacklog
from observe.tables import HELD_EVENT_TABLE, OUTBOX_TABLE
from shared_events.transport import platform_topology
from stack.connections import fetch_rows, fetch_value
from stack.local_aws import local_client
from stack.platform_run import PlatformRun

QUEUE_DEPTH_ATTRIBUTES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


@dataclass(frozen=True)
class Backlog:
    """Unpublished outbox rows per service, messages left per consumer's inbox,
    events parked per consumer, and stream records past no checkpoint per
    event source mapping.

    ``stream_feeds`` says whom each mapping's records are for: a consumer
    ("order", "customer-read"), or "" for a mapping that publishes (a
    DynamoDB event table's stream, the outbox of ``EVENT_STORE=dynamodb``).
    """

    outboxes: dict[str, int] = field(default_factory=dict)
    inboxes: dict[str, int] = field(default_factory=dict)
    streams: dict[str, int] = field(default_factory=dict)
    stream_feeds: dict[str, str] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return (
            sum(self.outboxes.values())
            + sum(self.inboxes.values())
            + sum(self.held.values())
            + sum(self.streams.values())
        )

    @property
    def quiet(self) -> bool:
        return self.total == 0

    @property
    def unpublished(self) -> int:
        """Events committed and not yet handed to the broker: outbox rows, and
        event-table stream records the publishing function has not got past."""
        return sum(self.outboxes.values()) + sum(
            n for name, n in self.streams.items() if not self.stream_feeds.get(name)
        )

    def waiting_for(self, consumer: str) -> int:
        """Events delivered to ``consumer`` and not yet applied: its inbox's
        messages, its parked events, and the records its stream mappings have
        not got past."""
        return (
            self.inboxes.get(consumer, 0)
            + self.held.get(consumer, 0)
            + sum(
                n
                for name, n in self.streams.items()
                if self.stream_feeds.get(name) == consumer
            )
        )

    def carries(self, inbox: str) -> bool:
        """Whether this consumer may still receive or hold events: some wait for
        it, or some are not published yet (an event reaches every subscriber)."""
        return bool(self.waiting_for(inbox) or self.unpublished)

    def as_dict(self) -> dict[str, int]:
        return {
            **{f"outbox:{service}": n for service, n in self.outboxes.items()},
            **{f"inbox:{consumer}": n for consumer, n in self.inboxes.items()},
            **{f"held:{consumer}": n for consumer, n in self.held.items() if n},
            **{f"stream:{mapping}": n for mapping, n in self.streams.items()},
        }

    def describe(self) -> str:
        outboxes = sum(self.outboxes.values())
        inboxes = sum(self.inboxes.values())
        parts = f"outboxes {outboxes}, inboxes {inboxes}"
        if any(self.held.values()):
            parts += f", parked {sum(self.held.values())}"
        if self.streams:
            parts += f", streams {sum(self.streams.values())}"
        return f"{self.total} ({parts})"


@dataclass(frozen=True)
class Quiescence:
    """The outcome of waiting: quiet or not, and what was left at the end."""

    quiet: bool
    waited_seconds: float
    left: Backlog


class BacklogProbe:
    """Counts what a running platform still has to relay and apply.

    It reads the outboxes from the services' databases, and the inbox depths
    and the streams straight from the local AWS (not through the broker
    proxy, which a scenario may have cut). Which of these a platform has
    follows from its backends: no inboxes under ``EVENT_DELIVERY=kinesis``,
    no outbox rows under ``EVENT_STORE=dynamodb`` (the table, still there,
    stays empty), streams only where Lambda functions read them.
    """

    def __init__(self, run: PlatformRun) -> None:
        self.run = run
        self.outbox_urls = {
            service: run.database_url(service) for service in run.info.outbox_services
        }
        self.inbox_urls: dict[str, str] = {}
        # Where each inbox's consumer parks events: its own or read database.
        self.held_urls: set[str] = set()
        self.streams: StreamBacklog | None = None
        if run.moto is not None:
            self.sqs = local_client("sqs", run.moto.endpoint_url)
            delivery = run.env.get("EVENT_DELIVERY", "sns")
            topology = platform_topology(
                prefix=run.env.get("EVENT_TOPOLOGY_PREFIX", ""),
                read_side=run.info.read_side,
            )
            if delivery != "kinesis":  # a stream's consumer has no inbox
                self.inbox_urls = {
                    consumer: self.sqs.get_queue_url(
                        QueueName=topology.queue_name(consumer)
                    )["QueueUrl"]
                    for consumer in topology.consumers
                }
                self.held_urls = {
                    consumer_database_url(run, consumer)
                    for consumer in topology.consumers
                }
            self.streams = StreamBacklog.of_platform(run)

    def measure(self) -> Backlog:
        streams = self.streams.counts() if self.streams is not None else {}
        return Backlog(
            outboxes={
                service: fetch_value(url, PENDING_OUTBOX_ROWS, connect_timeout=5)
                for service, url in self.outbox_urls.items()
            },
            inboxes={
                consumer: self._depth(url) for consumer, url in self.inbox_urls.items()
            },
            streams=streams,
            stream_feeds=self.streams.feeds if self.streams is not None else {},
            held=self._held(),
        )

    def _held(self) -> dict[str, int]:
        """Events parked per consumer (its inbox's name, as the inboxes)."""
        held: dict[str, int] = {}
        for url in self.held_urls:
            try:
                rows = fetch_rows(url, PARKED_EVENTS, connect_timeout=5)
            except psycopg2.errors.UndefinedTable:
                continue  # a database migrated before consumers parked events
            for consumer, count in rows:
                name = consumer.removesuffix("-inbox")
                held[name] = held.get(name, 0) + count
        return held

    def pending_aggregates(self, service: str, aggregate_ids: list[str]) -> set[str]:
        """Which of these aggregates still have events not published: outbox
        rows, or records of the service's event table its publishing function
        has not got past (``EVENT_STORE=dynamodb``)."""
        if not aggregate_ids:
            return set()
        pending: set[str] = set()
        url = self.outbox_urls.get(service)
        if url is not None:
            rows = fetch_rows(
                url,
                f"SELECT DISTINCT aggregate_id::text FROM {OUTBOX_TABLE} "
                "WHERE published_at IS NULL AND aggregate_id::text = ANY(%s)",
                [aggregate_ids],
                connect_timeout=5,
            )
            pending |= {row[0] for row in rows}
        if self.streams is not None:
            publishers = {
                entry.name
                for entry in self.streams.watched
                if entry.publishes and entry.service == service
            }
            for name, records in self.streams.pending().items():
                if name in publishers:
                    pending |= {r.aggregate_id for r in records}
        return pending & set(aggregate_ids)

    def _depth(self, queue_url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=QUEUE_DEPTH_ATTRIBUTES
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def wait_until_quiet(
        self,
        *,
        timeout: float,
        stable_for: float = 1.5,
        interval: float = 0.25,
        on_poll: Callable[[Backlog], None] | None = None,
    ) -> Quiescence:
        """Wait until nothing is left (and stays so for ``stable_for`` seconds).

        ``on_poll`` sees every measurement: to show progress, or to act on a
        relay that stopped relaying. A measurement that fails (the database
        restarting) counts as not quiet and is tried again.
        """
        started = time.monotonic()
        quiet_since: float | None = None
        left = Backlog()
        while True:
            try:
                left = self.measure()
            except Exception:  # noqa: BLE001 (a restarting database; try again)
                quiet_since = None
            else:
                if on_poll is not None:
                    on_poll(left)
                if left.quiet:
                    quiet_since = quiet_since or time.monotonic()
                    if time.monotonic() - quiet_since >= stable_for:
                        return Quiescence(True, quiet_since - started, left)
                else:
                    quiet_since = None
            if time.monotonic() - started >= timeout:
                return Quiescence(False, time.monotonic() - started, left)
            time.sleep(interval)


PENDING_OUTBOX_ROWS = f"SELECT count(*) FROM {OUTBOX_TABLE} WHERE published_at IS NULL"
PARKED_EVENTS = f"SELECT consumer, count(*) FROM {HELD_EVENT_TABLE} GROUP BY consumer"


def consumer_database_url(run: PlatformRun, consumer: str) -> str:
    """The database a consumer applies events in: ``order``, ``customer`` and
    ``analytics`` their service's, ``<service>-read`` its read database."""
    service, _, side = consumer.partition("-")
    if side == "read":
        return run.read_database_url(service)
    return run.database_url(service)

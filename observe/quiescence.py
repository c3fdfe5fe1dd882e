"""When the platform has gone quiet: nothing left to relay, deliver or apply.

A snapshot taken while events are still on their way cannot tell lag from
loss: a customer missing downstream may be lost, or merely late. The
platform is quiet when every outbox is published and every inbox is empty
(no message waiting, none received but not yet deleted, none delayed), and
stays so for a moment. A consumer deletes a message only after the
transaction that applied it committed, so an empty inbox means every
delivered event was applied (or dead-lettered). Only then is a difference
between upstream and downstream a loss.

The lab waits for this after every scenario, bounded by a deadline that
grows with the backlog; the reliability suite waits for it after every round.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from observe.tables import OUTBOX_TABLE
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
    """Unpublished outbox rows per service, messages left per consumer's inbox."""

    outboxes: dict[str, int] = field(default_factory=dict)
    inboxes: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.outboxes.values()) + sum(self.inboxes.values())

    @property
    def quiet(self) -> bool:
        return self.total == 0

    def carries(self, inbox: str) -> bool:
        """Whether this consumer's inbox may still receive or hold events: it
        holds some, or an outbox has not published yet (an event fans out to
        every subscriber)."""
        return bool(self.inboxes.get(inbox) or sum(self.outboxes.values()))

    def as_dict(self) -> dict[str, int]:
        return {
            **{f"outbox:{service}": n for service, n in self.outboxes.items()},
            **{f"inbox:{consumer}": n for consumer, n in self.inboxes.items()},
        }

    def describe(self) -> str:
        outboxes = sum(self.outboxes.values())
        inboxes = sum(self.inboxes.values())
        return f"{self.total} (outboxes {outboxes}, inboxes {inboxes})"


@dataclass(frozen=True)
class Quiescence:
    """The outcome of waiting: quiet or not, and what was left at the end."""

    quiet: bool
    waited_seconds: float
    left: Backlog


class BacklogProbe:
    """Counts what a running platform still has to relay and apply.

    It reads the outboxes from the services' databases and the inbox depths
    straight from the local AWS (not through the broker proxy, which a
    scenario may have cut).
    """

    def __init__(self, run: PlatformRun) -> None:
        self.run = run
        self.outbox_urls = {
            service: run.database_url(service) for service in run.info.outbox_services
        }
        self.inbox_urls: dict[str, str] = {}
        if run.moto is not None:
            self.sqs = local_client("sqs", run.moto.endpoint_url)
            topology = platform_topology(
                prefix=run.env.get("EVENT_TOPOLOGY_PREFIX", ""),
                read_side=run.info.read_side,
            )
            self.inbox_urls = {
                consumer: self.sqs.get_queue_url(
                    QueueName=topology.queue_name(consumer)
                )["QueueUrl"]
                for consumer in topology.consumers
            }

    def measure(self) -> Backlog:
        return Backlog(
            outboxes={
                service: fetch_value(url, PENDING_OUTBOX_ROWS, connect_timeout=5)
                for service, url in self.outbox_urls.items()
            },
            inboxes={
                consumer: self._depth(url) for consumer, url in self.inbox_urls.items()
            },
        )

    def pending_aggregates(self, service: str, aggregate_ids: list[str]) -> set[str]:
        """Which of these aggregates still have unpublished outbox rows."""
        url = self.outbox_urls.get(service)
        if url is None or not aggregate_ids:
            return set()
        rows = fetch_rows(
            url,
            f"SELECT DISTINCT aggregate_id::text FROM {OUTBOX_TABLE} "
            "WHERE published_at IS NULL AND aggregate_id::text = ANY(%s)",
            [aggregate_ids],
            connect_timeout=5,
        )
        return {row[0] for row in rows}

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

"""What the outbox relay tests share: events, a broker on moto, counting deliveries.

The broker is the real thing over HTTP: a ``moto.server`` subprocess, an SNS topic
for the customer service and the order service's SQS inbox subscribed to it. What
"reached the broker" is what can be received from that inbox, so every count here
is made by receiving (and deleting: moto slows down as a queue grows).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.db import connection, transaction

from shared_events.events import EventEnvelope
from shared_events.models import OutboxMessage
from shared_events.outbox.relay import RelayResult, relay_outbox
from shared_events.outbox.store import outbox_pending_count
from shared_events.testing import customer_events
from shared_events.testing.queues import delete_received
from shared_events.transport import (
    AwsSettings,
    EventPublisher,
    SnsPublisher,
    client,
    ensure_topology,
    platform_topology,
)
from shared_events.write_side import outbox_append
from stack.moto_server import MotoServer

PRODUCER = "customer"
CONSUMER = "order"  # the order service's inbox listens to customer events


# --- events -----------------------------------------------------------------------


def customer_registered(number: int = 0) -> EventEnvelope:
    """A valid ``CustomerRegistered`` of a new customer."""
    return customer_events.registered(
        uuid.uuid4(),
        name=f"Customer {number}",
        email=f"customer{number}@example.com",
        address=f"{number} Relay Road",
    )


def append_customer_events(count: int) -> list[str]:
    """Commit ``count`` outbox rows in one transaction; return their event ids."""
    envelopes = [customer_registered(number) for number in range(count)]
    with transaction.atomic():
        outbox_append(envelopes=envelopes)
    return [str(envelope.event_id) for envelope in envelopes]


def outbox_rows() -> dict[str, OutboxMessage]:
    """Every outbox row, by event id (read on the caller's connection)."""
    return {str(row.event_id): row for row in OutboxMessage.objects.all()}


# --- waiting ----------------------------------------------------------------------


def relay_until_done(
    publisher: EventPublisher, *, timeout: float, batch_size: int = 100
) -> RelayResult:
    """Run the relay until no row is pending (rows in backoff become due meanwhile)."""
    total = RelayResult()
    deadline = time.monotonic() + timeout
    while True:
        total += relay_outbox(publisher=publisher, batch_size=batch_size)
        if outbox_pending_count() == 0:
            return total
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{outbox_pending_count()} rows still pending after {timeout}s: {total}"
            )
        time.sleep(0.1)


def wait_until(
    condition: Callable[[], bool], *, timeout: float, interval: float = 0.02
) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes; say which."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


# --- the broker -------------------------------------------------------------------


@dataclass(frozen=True)
class Broker:
    """The customer service's topic and the inbox that receives from it."""

    settings: AwsSettings
    prefix: str
    topic_arn: str
    queue_url: str

    def publisher(self) -> SnsPublisher:
        return SnsPublisher(self.topic_arn, self.settings, fifo=False)

    def sqs(self) -> Any:
        return client("sqs", self.settings)


def broker_on(settings: AwsSettings, *, prefix: str | None = None) -> Broker:
    """Create (idempotently) the platform topology under ``prefix`` on ``settings``."""
    prefix = prefix or f"relay{uuid.uuid4().hex[:8]}-"
    report = ensure_topology(platform_topology(prefix=prefix), settings)
    return Broker(
        settings=settings,
        prefix=prefix,
        topic_arn=report.topic_arns[PRODUCER],
        queue_url=report.queue_urls[CONSUMER],
    )


def fresh_broker(server: MotoServer) -> Iterator[Broker]:
    """For a ``broker`` fixture: a new topology on an empty server, emptied after."""
    server.reset()
    yield broker_on(AwsSettings(endpoint_url=server.endpoint_url))
    server.reset()


class QueueDrain:
    """Receives and deletes from an inbox in a background thread, counting event ids.

    Draining while the relay publishes keeps the queue short (moto scans the whole
    queue on every call) and lets a test count duplicates: ``received`` maps each
    event id to how many times it arrived.

    One receiver only: with several receiving at once, moto 5.2.5 now and then
    hands one message to two of them, a duplicate the relay never made.
    """

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._lock = threading.Lock()
        self._received: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def __enter__(self) -> QueueDrain:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def received(self) -> Counter[str]:
        with self._lock:
            return Counter(self._received)

    def wait_for(self, event_ids: Iterable[str], *, timeout: float) -> Counter[str]:
        """Wait until every id in ``event_ids`` arrived at least once; return counts."""
        wanted = set(event_ids)
        wait_until(
            lambda: self.error is not None or wanted <= set(self.received),
            timeout=timeout,
        )
        if self.error is not None:
            raise AssertionError(f"draining the inbox failed: {self.error!r}")
        return self.received

    def settle(self, *, quiet_seconds: float = 0.5) -> Counter[str]:
        """Keep draining until nothing new arrived for ``quiet_seconds``; return counts.

        Used after the relay is done, so a late duplicate would still be counted.
        """
        last = -1
        while True:
            if self.error is not None:
                raise AssertionError(f"draining the inbox failed: {self.error!r}")
            total = sum(self.received.values())
            if total == last:
                return self.received
            last = total
            time.sleep(quiet_seconds)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                messages = self._sqs.receive_message(
                    QueueUrl=self._queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=0,
                ).get("Messages", [])
                if not messages:
                    self._stop.wait(0.02)
                    continue
                deleted = delete_received(self._sqs, self._queue_url, messages)
                if deleted.get("Failed"):
                    # It would come back later and be counted as a duplicate.
                    raise RuntimeError(f"could not delete: {deleted['Failed']}")
                # Raw delivery: the body is the envelope exactly as published.
                ids = [json.loads(m["Body"])["event_id"] for m in messages]
                with self._lock:
                    self._received.update(ids)
        except BaseException as error:  # reported by wait_for, not lost in a thread
            self.error = error


def duplicates(received: Counter[str]) -> dict[str, int]:
    return {event_id: count for event_id, count in received.items() if count > 1}


# --- transactions on their own connections ----------------------------------------


class OpenTransaction:
    """A transaction on a connection of its own, kept open until told to end.

    A thread has its own Django database connection, so ``outbox_append`` runs in
    the thread, inside ``transaction.atomic()``, and the thread then waits: the rows
    are inserted (their ids taken) but not committed, and no other connection can
    see them until :meth:`commit`.
    """

    def __init__(self, envelopes: Sequence[EventEnvelope]) -> None:
        self.envelopes = list(envelopes)
        self.row_ids: list[int] = []
        self._written = threading.Event()
        self._end = threading.Event()
        self._commit = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def event_ids(self) -> list[str]:
        return [str(envelope.event_id) for envelope in self.envelopes]

    def begin(self) -> OpenTransaction:
        """Start the transaction and return once its rows are written."""
        self._thread.start()
        if not self._written.wait(timeout=10):
            raise AssertionError("the transaction did not write its rows in time")
        self._raise_error()
        return self

    def commit(self) -> None:
        self._finish(commit=True)

    def rollback(self) -> None:
        self._finish(commit=False)

    def _finish(self, *, commit: bool) -> None:
        self._commit = commit
        self._end.set()
        self._thread.join(timeout=10)
        if self._thread.is_alive():
            raise AssertionError("the transaction did not end in time")
        self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise AssertionError(f"the transaction failed: {self._error!r}")

    def _run(self) -> None:
        try:
            with transaction.atomic():
                rows = outbox_append(envelopes=self.envelopes)
                self.row_ids = [row.id for row in rows]
                self._written.set()
                self._end.wait(timeout=30)
                if not self._commit:
                    transaction.set_rollback(True)
        except BaseException as error:
            self._error = error
        finally:
            self._written.set()
            connection.close()


def in_own_connection(function: Callable[[], Any]) -> Callable[[], Any]:
    """Wrap ``function`` so that the thread running it closes its connection after."""

    def run() -> Any:
        try:
            return function()
        finally:
            connection.close()

    return run


def database_url(settings_dict: dict[str, Any]) -> str:
    """A PostgreSQL URL for a Django connection's settings (the test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"

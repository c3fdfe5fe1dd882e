"""``consume_events`` as a learner runs it: a real process, a real queue, SIGTERM.

The command runs under ``event_sourcing`` (so its wiring has the replica
handlers and cancels orders through the event store and the outbox), against
this test's PostgreSQL database and the session's moto server. The test writes
committed data (``transactional_db``) so the process sees it, and reads what the
process committed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import connection

from order_service import bootstrap
from order_service.orders.customers import CustomerSnapshot
from order_service.orders.domain import OrderAggregate
from order_service.orders.models import CustomerReplica, Order, OrderStatus
from order_service.orders.repositories import OrderStateTable
from order_service.orders.services import LineRequest, order_place
from order_service.orders.tests.consumer_support import (  # noqa: F401 (fixtures)
    CONSUMER_NAME,
    MAX_RECEIVE_COUNT,
    Inbox,
    body,
    database_url,
    deleted,
    inbox_fixture,
    moto_server_fixture,
    registered,
    renamed,
    wait_for,
)
from shared_events.configuration import REPO_DIR
from shared_events.models import OutboxMessage, ProcessedEvent, StoredEvent
from shared_events.write_side import EventSourcedRepository

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


class ConsumerProcess:
    """``manage.py --service order consume_events`` in a child process.

    A thread collects its output line by line, so the test can wait for a line
    without blocking on the pipe.
    """

    def __init__(self, environment: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(REPO_DIR / "manage.py"),
                "--service",
                "order",
                "consume_events",
                "--wait-seconds",
                "1",
            ],
            cwd=REPO_DIR,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if self.process.poll() is not None:
                self._reader.join(timeout=2)
                raise AssertionError(
                    f"consume_events exited ({self.process.returncode}) before "
                    f"printing {text!r}:\n{self.output}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"consume_events did not print {text!r} within {timeout:.0f}s:"
                    f"\n{self.output}"
                )
            time.sleep(0.05)

    def terminate(self, *, timeout: float) -> tuple[int, float]:
        """SIGTERM, then wait: (exit status, seconds it took)."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        returncode = self.process.wait(timeout=timeout)
        self._reader.join(timeout=2)
        return returncode, time.monotonic() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)


@pytest.fixture
def consumer_process(inbox: Inbox) -> Iterator[ConsumerProcess]:
    environment = {
        key: value
        for key, value in os.environ.items()
        # Only the test database: no server URL from which to derive others.
        if key not in ("DATABASE_SERVER_URL", "DJANGO_SETTINGS_MODULE")
    }
    environment.update(
        ORDER_DATABASE_URL=database_url(connection.settings_dict),
        ARCHITECTURE_APPROACH="event_sourcing",
        AWS_ENDPOINT_URL=inbox.aws.endpoint_url or "",
        EVENT_TOPOLOGY_PREFIX=inbox.prefix,
        EVENT_MAX_RECEIVE_COUNT=str(MAX_RECEIVE_COUNT),
        EVENT_VISIBILITY_TIMEOUT="30",
        PYTHONUNBUFFERED="1",
    )
    process = ConsumerProcess(environment)
    try:
        yield process
    finally:
        # Never leave it running: the database is flushed after the test.
        process.kill()


def event_sourced_order(customer_directory, customer_id: uuid.UUID) -> Order:
    """An order placed as the event-sourced order service places it."""
    customer_directory.add(
        CustomerSnapshot(id=customer_id, name="Ada Lovelace", email="ada@example.com")
    )
    repository = EventSourcedRepository(
        aggregate_class=OrderAggregate,
        table=OrderStateTable(),
        producer="order",
        wake_relay=lambda: None,  # no relay in this test
    )
    with bootstrap.overridden(order_repository=repository):
        return order_place(
            customer_id=customer_id,
            lines=[LineRequest(sku="BOOK-1", quantity=2, unit_price=Decimal("9.99"))],
        ).order


def test_consume_events_applies_events_and_stops_on_sigterm_while_idle(
    inbox: Inbox, consumer_process: ConsumerProcess, customer_directory
):
    customer_id = uuid.uuid4()
    order = event_sourced_order(customer_directory, customer_id)
    consumer_process.wait_for_line("consuming", timeout=START_TIMEOUT)
    assert f"as {CONSUMER_NAME} (5 event types handled)" in consumer_process.output

    events = [
        registered(customer_id, name="Ada Byron"),
        renamed(customer_id, version=2, name="Ada Lovelace"),
        deleted(customer_id, version=3),
    ]
    poison = "this is not an event"
    inbox.send(poison)
    for envelope in events:
        inbox.send(body(envelope))
    inbox.send(body(events[1]))  # a redelivery

    def order_cancelled() -> bool:
        return Order.objects.get(id=order.id).status == OrderStatus.CANCELLED

    wait_for(order_cancelled, what="the order cancelled by the consumer process")
    # The poison goes to the dead-letter queue after its attempts (with the
    # real backoff: 1 s, then 2 s), and the process lives on.
    [letter] = inbox.take_dead_letters(expected=1, timeout=15)
    assert letter["Body"] == poison
    assert letter["MessageAttributes"]["failure_reason"]["StringValue"].startswith(
        "invalid event: not JSON"
    )
    wait_for(lambda: inbox.counts() == (0, 0), what="an empty inbox")

    replica = CustomerReplica.objects.get(id=customer_id)
    assert (replica.name, replica.version, replica.deleted) == ("Ada Lovelace", 3, True)
    assert ProcessedEvent.objects.filter(consumer=CONSUMER_NAME).count() == 3
    # Event-sourced: the cancellation is an event in the store and in the outbox.
    cancelled = StoredEvent.objects.get(aggregate_id=order.id, aggregate_version=2)
    assert cancelled.event_type == "OrderCancelled"
    assert cancelled.payload["reason"] == "customer_deleted"
    assert OutboxMessage.objects.filter(event_id=cancelled.event_id).exists()

    # Idle now: SIGTERM ends the long poll in hand and exits cleanly.
    returncode, took = consumer_process.terminate(timeout=STOP_TIMEOUT)

    assert returncode == 0, consumer_process.output
    assert took < STOP_TIMEOUT
    assert "stopping after the messages in hand..." in consumer_process.output
    retries = MAX_RECEIVE_COUNT - 1
    assert (
        f"stopped; outcomes: applied 3, dead_lettered 1, duplicate 1, retry {retries}"
        in consumer_process.output
    )
    assert inbox.is_drained()

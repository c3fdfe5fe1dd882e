"""``consume_events`` as a learner runs it: a real process, a real queue, SIGTERM.

The command runs under ``event_sourcing`` (so its wiring has the replica
handlers and cancels orders through the event store and the outbox), against
this test's PostgreSQL database and the session's moto server. The test writes
committed data (``transactional_db``) so the process sees it, and reads what the
process committed. The process starts as the platform starts its workers
(``stack.processes.start_worker``), and its output goes to a log file.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import connection

from order_service import bootstrap
from order_service.orders.credit import CreditSaga
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
from shared_events.models import OutboxMessage, ProcessedEvent, StoredEvent
from shared_events.write_side import EventSourcedRepository
from stack.processes import ServiceProcess, start_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


@pytest.fixture
def consumer_process(inbox: Inbox) -> Iterator[ServiceProcess]:
    """``manage.py --service order consume_events``, polling the test's inbox."""
    process = start_worker(
        "order",
        ["consume_events", "--wait-seconds", "1"],
        env={
            # Only the test database: no server URL from which to derive others.
            "DATABASE_SERVER_URL": "",
            "ORDER_DATABASE_URL": database_url(connection.settings_dict),
            "ARCHITECTURE_APPROACH": "event_sourcing",
            "AWS_ENDPOINT_URL": inbox.aws.endpoint_url or "",
            "EVENT_TOPOLOGY_PREFIX": inbox.prefix,
            "EVENT_MAX_RECEIVE_COUNT": str(MAX_RECEIVE_COUNT),
            "EVENT_VISIBILITY_TIMEOUT": "30",
        },
        name="consumer",
        ready_text="consuming",
        ready_timeout=START_TIMEOUT,
    )
    try:
        yield process
    finally:
        # Never leave it running: the database is flushed after the test.
        process.stop(timeout=STOP_TIMEOUT)


def terminate(process: ServiceProcess) -> tuple[int, float]:
    """SIGTERM, then wait: (exit status, seconds it took)."""
    started = time.monotonic()
    process.process.send_signal(signal.SIGTERM)
    returncode = process.process.wait(timeout=STOP_TIMEOUT)
    return returncode, time.monotonic() - started


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
    with bootstrap.overridden(order_repository=repository, credit_rule=CreditSaga()):
        return order_place(
            customer_id=customer_id,
            lines=[LineRequest(sku="BOOK-1", quantity=2, unit_price=Decimal("9.99"))],
        ).order


def test_consume_events_applies_events_and_stops_on_sigterm_while_idle(
    inbox: Inbox, consumer_process: ServiceProcess, customer_directory
):
    customer_id = uuid.uuid4()
    order = event_sourced_order(customer_directory, customer_id)
    started = consumer_process.log_path.read_text()
    assert f"as {CONSUMER_NAME} (7 event types handled)" in started

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
    assert letter.body == poison
    assert letter.failure_reason.startswith("invalid event: not JSON")
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
    returncode, took = terminate(consumer_process)

    output = consumer_process.log_path.read_text()
    assert returncode == 0, output
    assert took < STOP_TIMEOUT
    assert "stopping after the messages in hand..." in output
    retries = MAX_RECEIVE_COUNT - 1
    assert (
        f"stopped; outcomes: applied 3, dead_lettered 1, duplicate 1, retry {retries}"
        in output
    )
    assert inbox.is_drained()

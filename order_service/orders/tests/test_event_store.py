"""Approach 4 in the order service: the event store is the write model.

Every test runs with the ``event_sourcing`` fixture (the wiring the
composition root builds for event_sourcing, with the fake customer
directory instead of the replica). Notice the rejected placement: the
command is refused (400) and yet recorded, as the paper asks.
"""

import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from order_service.orders.customers import CustomerSnapshot
from order_service.orders.domain import OrderAggregate
from order_service.orders.models import Order, OrderLine, OrderStatus
from order_service.orders.services import (
    LineRequest,
    order_cancel,
    order_place,
    orders_cancel_for_deleted_customer,
)
from shared_events.event_store import event_store_load
from shared_events.events import from_json
from shared_events.models import OutboxMessage, StoredEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("event_sourcing")]

PLACE_URL = reverse("order-place")


class Refused(Exception):
    pass


@pytest.fixture
def ada(customer_directory) -> CustomerSnapshot:
    return customer_directory.add(
        CustomerSnapshot(id=uuid.uuid4(), name="Ada Lovelace", email="ada@example.com")
    )


def place(customer) -> Order:
    return order_place(
        customer_id=customer.id,
        lines=[
            LineRequest(sku="BOOK-1", quantity=3, unit_price=Decimal("19.99")),
            LineRequest(sku="PEN-7", quantity=2, unit_price=Decimal("0.10")),
        ],
    )


def stored_events(order_id) -> list[StoredEvent]:
    return list(
        StoredEvent.objects.filter(aggregate_id=order_id).order_by("aggregate_version")
    )


def refuse_outbox_writes() -> None:
    """From here on in this test's transaction, PostgreSQL refuses outbox rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_outbox_write() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RAISE EXCEPTION 'the outbox write failed'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_outbox_write BEFORE INSERT ON event_outbox"
            " FOR EACH ROW EXECUTE FUNCTION refuse_outbox_write()"
        )


def test_place_then_cancel_append_versions_one_and_two(ada):
    order = place(ada)
    order_cancel(order=order)

    events = stored_events(order.id)
    assert [(event.aggregate_version, event.event_type) for event in events] == [
        (1, "OrderPlaced"),
        (2, "OrderCancelled"),
    ]
    assert events[0].payload == {
        "order_id": str(order.id),
        "customer_id": str(ada.id),
        "lines": [
            {"sku": "BOOK-1", "quantity": 3, "unit_price": "19.99"},
            {"sku": "PEN-7", "quantity": 2, "unit_price": "0.10"},
        ],
        "total": "60.17",
    }
    assert events[1].payload == {
        "order_id": str(order.id),
        "customer_id": str(ada.id),
        "reason": "customer_request",
    }


def test_each_event_gets_one_valid_outbox_row(ada):
    order = place(ada)
    order_cancel(order=order)

    rows = list(OutboxMessage.objects.order_by("aggregate_version"))
    events = stored_events(order.id)
    assert [row.event_id for row in rows] == [event.event_id for event in events]
    for event, row in zip(events, rows, strict=True):
        envelope = from_json(row.body)
        assert (envelope.event_type, envelope.aggregate_version) == (
            event.event_type,
            event.aggregate_version,
        )
        assert envelope.payload == event.payload
        assert envelope.producer == "order"


def test_the_cached_rows_are_the_fold_of_the_events(ada, event_sourcing):
    order = order_cancel(order=place(ada))

    folded = OrderAggregate.fold(order.id, event_store_load(aggregate_id=order.id))
    row = Order.objects.get(id=order.id)
    assert folded == event_sourcing.order_repository.get(order.id)
    assert (row.version, row.customer_id, row.status, row.total) == (
        folded.version,
        folded.customer_id,
        folded.status,
        folded.total,
    )
    assert [(line.sku, line.quantity, line.unit_price) for line in row.lines.all()] == [
        (line.sku, line.quantity, line.unit_price) for line in folded.lines
    ]
    assert (row.version, row.status) == (2, OrderStatus.CANCELLED)


def test_a_failing_outbox_write_takes_the_event_and_the_order_with_it(ada):
    refuse_outbox_writes()
    with pytest.raises(DatabaseError, match="the outbox write failed"):
        place(ada)

    assert not StoredEvent.objects.exists()
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()


def test_a_rolled_back_cancel_leaves_the_order_placed(ada):
    order = place(ada)

    with pytest.raises(Refused), transaction.atomic():
        order_cancel(order=order)
        raise Refused

    assert [event.event_type for event in stored_events(order.id)] == ["OrderPlaced"]
    assert OutboxMessage.objects.count() == 1
    assert Order.objects.get(id=order.id).status == OrderStatus.PLACED


def test_a_deleted_customers_orders_are_cancelled_by_appending_events(ada):
    first, second = place(ada), place(ada)
    order_cancel(order=second)

    cancelled = orders_cancel_for_deleted_customer(customer_id=ada.id)

    assert cancelled == 1
    assert stored_events(first.id)[-1].payload["reason"] == "customer_deleted"
    assert len(stored_events(second.id)) == 2  # already cancelled: untouched


# ORDER REJECTED
# ------------------------------------------------------------------------------


def test_an_unknown_customer_is_refused_and_the_refusal_is_recorded(api_client):
    unknown = uuid.uuid4()

    response = api_client.post(
        PLACE_URL,
        {
            "customer_id": str(unknown),
            "lines": [{"sku": "BOOK-1", "quantity": 1, "unit_price": "10.00"}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"customer_id": [f"no customer with id {unknown}"]}
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    rejected = StoredEvent.objects.get()
    assert (rejected.event_type, rejected.aggregate_version) == ("OrderRejected", 1)
    assert rejected.payload == {
        "order_id": str(rejected.aggregate_id),
        "customer_id": str(unknown),
        "reason": "unknown customer",
    }
    assert from_json(OutboxMessage.objects.get().body).event_type == "OrderRejected"

    history = api_client.get(
        reverse("order-history", kwargs={"order_id": rejected.aggregate_id})
    )
    as_of = api_client.get(
        reverse("order-as-of", kwargs={"order_id": rejected.aggregate_id, "version": 1})
    )

    assert [event["event_type"] for event in history.json()["results"]] == [
        "OrderRejected"
    ]
    assert as_of.json()["status"] == "rejected"
    assert as_of.json()["lines"] == []
    # Not an order: it cannot be read or cancelled as one.
    detail = api_client.get(
        reverse("order-detail", kwargs={"order_id": rejected.aggregate_id})
    )
    assert detail.status_code == 404

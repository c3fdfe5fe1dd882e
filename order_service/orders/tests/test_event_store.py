"""Approach 4 in the order service: the event store is the write model.

The contract every event-sourced write model keeps is
``shared_events.testing.event_store_contract``; this module binds it to the
Order aggregate (with the fake customer directory instead of the replica)
and adds what only orders do. Notice the rejected placement: the command is
refused (400) and yet recorded, as the paper asks.
"""

import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError
from django.urls import reverse

from order_service.orders.domain import OrderAggregate
from order_service.orders.models import Order, OrderLine
from order_service.orders.services import (
    LineRequest,
    order_cancel,
    order_place,
    orders_cancel_for_deleted_customer,
)
from shared_events.events import from_json
from shared_events.models import OutboxMessage, StoredEvent
from shared_events.testing.event_store_contract import (
    EventStoreContract,
    refuse_outbox_writes,
    stored_events,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("event_sourcing")]

PLACE_URL = reverse("order-place")


def place(customer) -> Order:
    return order_place(
        customer_id=customer.id,
        lines=[
            LineRequest(sku="BOOK-1", quantity=3, unit_price=Decimal("19.99")),
            LineRequest(sku="PEN-7", quantity=2, unit_price=Decimal("0.10")),
        ],
    ).order


class TestOrderEventStore(EventStoreContract):
    producer = "order"
    aggregate_class = OrderAggregate
    state_model = Order
    created_event = "OrderPlaced"
    changed_event = "OrderCancelled"

    @pytest.fixture(autouse=True)
    def _customer(self, ada) -> None:
        self.customer = ada

    def create(self) -> Order:
        return place(self.customer)

    def change(self, row, *, expected_version=None) -> Order:
        return order_cancel(order=row, expected_version=expected_version)

    def repository(self):
        return self.wiring.order_repository

    def cached_state(self, aggregate_id):
        row = Order.objects.get(id=aggregate_id)
        lines = [(line.sku, line.quantity, line.unit_price) for line in row.lines.all()]
        return (row.version, row.customer_id, row.status, row.total, lines)

    def folded_state(self, aggregate):
        lines = [(line.sku, line.quantity, line.unit_price) for line in aggregate.lines]
        return (
            aggregate.version,
            aggregate.customer_id,
            aggregate.status,
            aggregate.total,
            lines,
        )

    def tamper(self, aggregate_id):
        Order.objects.filter(id=aggregate_id).update(total=Decimal("0.00"))


def test_place_then_cancel_record_their_payloads(ada):
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


def test_a_failing_outbox_write_takes_the_placement_and_its_lines_with_it(ada):
    refuse_outbox_writes()
    with pytest.raises(DatabaseError, match="the outbox write failed"):
        place(ada)

    assert not StoredEvent.objects.exists()
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()


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

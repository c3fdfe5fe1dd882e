"""Approach 4 with EVENT_STORE=dynamodb in the order service: the write store.

The contract every DynamoDB write model keeps is
``shared_events.testing.dynamodb_store_contract``; this module binds it to
the Order aggregate (with the fake customer directory instead of the
replica) and adds what only orders do: a rejected placement is one item and
no order, and a customer sees only its own order's history, read from the
table.
"""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from order_service import bootstrap
from order_service.orders.domain import OrderAggregate
from order_service.orders.models import Order, OrderStatus
from order_service.orders.services import (
    LineRequest,
    order_cancel,
    order_place,
    orders_cancel_for_deleted_customer,
)
from order_service.orders.tests.api_support import (
    PLACE_URL,
    as_of_url,
    history_url,
    placement,
)
from service_kit.testing.tokens import customer_jwt_client
from shared_events.testing.dynamodb_store_contract import (
    DynamoDBEventStoreContract,
    event_types,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("event_sourcing")]


class TestOrderDynamoDBEventStore(DynamoDBEventStoreContract):
    producer = "order"
    aggregate = "order"
    aggregate_class = OrderAggregate
    state_model = Order
    created_event = "OrderPlaced"
    changed_event = "OrderCancelled"
    composition_root = bootstrap
    subscriber = "customer"

    @pytest.fixture(autouse=True)
    def _customer(self, ada) -> None:
        self.customer = ada

    def create(self) -> Order:
        return order_place(
            customer_id=self.customer.id,
            lines=[
                LineRequest(sku="BOOK-1", quantity=3, unit_price=Decimal("19.99")),
                LineRequest(sku="PEN-7", quantity=2, unit_price=Decimal("0.10")),
            ],
        ).order

    def change(self, row, *, expected_version=None) -> Order:
        return order_cancel(order=row, expected_version=expected_version)

    def command(self, aggregate):
        aggregate.cancel(reason="customer_request")

    def create_request(self):
        return {"path": PLACE_URL, "data": placement(self.customer), "format": "json"}

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

    # What only orders do -------------------------------------------------------

    def test_a_rejected_placement_is_one_item_and_no_order(self, api_client):
        unknown = uuid.uuid4()

        response = api_client.post(
            PLACE_URL, placement(self.customer, customer_id=str(unknown)), format="json"
        )

        assert response.status_code == 400
        (item,) = self.items()
        assert event_types(item) == ["OrderRejected"]
        assert not Order.objects.exists()
        rejected = item["aggregate_id"]["S"]
        history = api_client.get(
            reverse("order-history", kwargs={"order_id": rejected})
        )
        assert [event["event_type"] for event in history.json()["results"]] == [
            "OrderRejected"
        ]

    def test_a_customer_reads_only_its_own_orders_history(self, grace):
        order = self.change(self.create())
        own, other = (
            customer_jwt_client(self.customer.id),
            customer_jwt_client(grace.id),
        )

        assert own.get(history_url(order.id)).json()["count"] == 2
        assert own.get(as_of_url(order.id, version=1)).json()["status"] == "pending"
        assert other.get(history_url(order.id)).status_code == 404
        assert other.get(as_of_url(order.id, version=1)).status_code == 404

    def test_an_order_healed_after_its_customer_was_deleted_is_cancelled(
        self, customer_directory
    ):
        order_id = self.create_and_crash_before_postgres_commits()
        # The deletion is applied while the order has no row: nothing to cancel.
        customer_directory.remove(self.customer.id)
        assert orders_cancel_for_deleted_customer(customer_id=self.customer.id) == 0

        answer = self.publish_from_the_stream()

        assert answer == {"batchItemFailures": []}
        order = Order.objects.get(id=order_id)
        assert (order.status, order.version) == (OrderStatus.CANCELLED, 2)
        assert [event_types(item) for item in self.items()] == [
            ["OrderPlaced"],
            ["OrderCancelled"],
        ]
        cancelled = self.repository().commits(order_id)[-1].envelopes()[0]
        assert cancelled.payload["reason"] == "customer_deleted"

"""An order's history and its state as of a version, over HTTP.

The answers every history API gives are in ``service_kit.testing.history_api``;
here are the order's own: its two events, its state as placed and as
cancelled, and how the schema documents them.
"""

import uuid
from decimal import Decimal

import pytest

from order_service import bootstrap
from order_service.orders.models import Order
from order_service.orders.services import LineRequest, order_cancel
from order_service.orders.tests.api_support import as_of_url, history_url, place
from service_kit.testing.history_api import HistoryApiContract
from shared_events.models import StoredEvent

pytestmark = pytest.mark.django_db

BOOKS = LineRequest(sku="BOOK-1", quantity=3, unit_price=Decimal("19.99"))


@pytest.fixture
def cancelled_order(event_sourcing, ada) -> Order:
    """Placed, then cancelled: two events."""
    return order_cancel(order=place(ada, BOOKS))


class TestOrderHistoryApi(HistoryApiContract):
    """What every history API answers (``service_kit.testing.history_api``)."""

    aggregate = "order"
    composition_root = bootstrap
    recorded_events = ["OrderPlaced", "OrderCancelled"]

    @pytest.fixture
    def recorded(self, cancelled_order) -> uuid.UUID:
        return cancelled_order.id

    @pytest.fixture
    def unrecorded(self, ada) -> uuid.UUID:
        return place(ada, BOOKS).id


def test_history_gives_each_event_as_stored(api_client, cancelled_order):
    events = api_client.get(history_url(cancelled_order.id)).json()["results"]

    stored = StoredEvent.objects.get(
        aggregate_id=cancelled_order.id, aggregate_version=2
    )
    assert events[1] == {
        "event_id": str(stored.event_id),
        "event_type": "OrderCancelled",
        "schema_version": 1,
        "aggregate_version": 2,
        "occurred_at": events[1]["occurred_at"],
        "recorded_at": events[1]["recorded_at"],
        "payload": {
            "order_id": str(cancelled_order.id),
            "customer_id": str(cancelled_order.customer_id),
            "reason": "customer_request",
        },
        "correlation_id": stored.metadata["correlation_id"],
        "causation_id": stored.metadata["causation_id"],
        "trace_context": stored.metadata["trace_context"],
    }


def test_history_is_paginated(api_client, cancelled_order):
    response = api_client.get(history_url(cancelled_order.id), {"limit": 1})

    body = response.json()
    assert (body["count"], len(body["results"])) == (2, 1)
    assert body["next"] is not None


def test_as_of_version_one_is_the_placed_order(api_client, cancelled_order):
    response = api_client.get(as_of_url(cancelled_order.id, version=1))

    assert response.status_code == 200
    assert response.json() == {
        "id": str(cancelled_order.id),
        "version": 1,
        "customer_id": str(cancelled_order.customer_id),
        "status": "pending",
        "total": "59.97",
        "lines": [
            {
                "sku": "BOOK-1",
                "quantity": 3,
                "unit_price": "19.99",
                "line_total": "59.97",
            }
        ],
        "cancel_reason": "",
        "reject_reason": "",
    }


def test_as_of_version_two_is_the_cancelled_order(api_client, cancelled_order):
    response = api_client.get(as_of_url(cancelled_order.id, version=2))

    assert (response.json()["status"], response.json()["cancel_reason"]) == (
        "cancelled",
        "customer_request",
    )


def test_the_schema_documents_history_and_versions(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]

    assert "/api/orders/{order_id}/history/" in paths
    as_of = paths["/api/orders/{order_id}/as-of/{version}/"]["get"]
    assert {"200", "404"} <= set(as_of["responses"])
    cancel = paths["/api/orders/{order_id}/cancel/"]["post"]
    assert "409" in cancel["responses"]
    body = cancel["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][body.rsplit("/", 1)[-1]]
    assert component["properties"]["expected_version"]["minimum"] == 1

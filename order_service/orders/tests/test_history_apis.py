"""An order's history and its state as of a version, over HTTP.

Under event sourcing the event store answers; under db_per_service (the
runner's approach) there is no history, and the answer says so.
"""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from order_service.orders.customers import CustomerSnapshot
from order_service.orders.services import LineRequest, order_cancel, order_place
from shared_events.models import StoredEvent

pytestmark = pytest.mark.django_db


def history_url(order_id) -> str:
    return reverse("order-history", kwargs={"order_id": order_id})


def as_of_url(order_id, version) -> str:
    return reverse("order-as-of", kwargs={"order_id": order_id, "version": version})


@pytest.fixture
def ada(customer_directory) -> CustomerSnapshot:
    return customer_directory.add(
        CustomerSnapshot(id=uuid.uuid4(), name="Ada Lovelace", email="ada@example.com")
    )


def place(customer):
    return order_place(
        customer_id=customer.id,
        lines=[LineRequest(sku="BOOK-1", quantity=3, unit_price=Decimal("19.99"))],
    ).order


@pytest.fixture
def cancelled_order(event_sourcing, ada):
    """Placed, then cancelled: two events."""
    return order_cancel(order=place(ada))


def test_history_lists_the_stored_events_oldest_first(api_client, cancelled_order):
    response = api_client.get(history_url(cancelled_order.id))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    events = body["results"]
    assert [(event["aggregate_version"], event["event_type"]) for event in events] == [
        (1, "OrderPlaced"),
        (2, "OrderCancelled"),
    ]
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
    }


def test_history_is_paginated(api_client, cancelled_order):
    response = api_client.get(history_url(cancelled_order.id), {"limit": 1})

    body = response.json()
    assert (body["count"], len(body["results"])) == (2, 1)
    assert body["next"] is not None


def test_as_of_version_one_is_the_placed_order(api_client, cancelled_order):
    response = api_client.get(as_of_url(cancelled_order.id, 1))

    assert response.status_code == 200
    assert response.json() == {
        "id": str(cancelled_order.id),
        "version": 1,
        "customer_id": str(cancelled_order.customer_id),
        "status": "placed",
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
    }


def test_as_of_version_two_is_the_cancelled_order(api_client, cancelled_order):
    response = api_client.get(as_of_url(cancelled_order.id, 2))

    assert (response.json()["status"], response.json()["cancel_reason"]) == (
        "cancelled",
        "customer_request",
    )


def test_as_of_a_version_not_reached_is_404_with_the_reason(
    api_client, cancelled_order
):
    response = api_client.get(as_of_url(cancelled_order.id, 3))

    assert response.status_code == 404
    assert response.json() == {
        "detail": (
            f"Order {cancelled_order.id} has no version 3: its last recorded "
            "version is 2"
        )
    }


@pytest.mark.parametrize("url", [history_url, lambda i: as_of_url(i, 1)])
def test_an_unknown_order_is_404(api_client, event_sourcing, url):
    response = api_client.get(url(uuid.uuid4()))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("version", ["0", "-3", "two", "2.5"])
def test_as_of_a_version_that_is_not_a_positive_integer_is_400(
    api_client, cancelled_order, version
):
    response = api_client.get(f"/api/orders/{cancelled_order.id}/as-of/{version}/")

    assert response.status_code == 400
    assert list(response.json()) == ["version"]


@pytest.mark.parametrize("url", [history_url, lambda i: as_of_url(i, 1)])
def test_history_needs_credentials(anonymous_client, url):
    response = anonymous_client.get(url(uuid.uuid4()))

    assert response.status_code == 401


@pytest.mark.parametrize("url", [history_url, lambda i: as_of_url(i, 1)])
def test_an_approach_without_an_event_store_says_it_keeps_no_history(
    api_client, ada, url
):
    order = place(ada)

    response = api_client.get(url(order.id))

    assert response.status_code == 404
    assert response.json()["detail"].startswith(
        "approach db_per_service (2 of 5: database per service) keeps no order history"
    )


def test_the_schema_documents_history_and_versions(anonymous_client):
    schema = anonymous_client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]

    assert "/api/orders/{order_id}/history/" in paths
    as_of = paths["/api/orders/{order_id}/as-of/{version}/"]["get"]
    assert {"200", "404"} <= set(as_of["responses"])
    cancel = paths["/api/orders/{order_id}/cancel/"]["post"]
    assert "409" in cancel["responses"]
    body = cancel["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][body.rsplit("/", 1)[-1]]
    assert component["properties"]["expected_version"]["minimum"] == 1

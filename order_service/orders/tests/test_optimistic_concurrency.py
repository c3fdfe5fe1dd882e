"""Optimistic concurrency on orders: versions in the API, 409 for a stale cancel.

Run under both kinds of repository (a state table under db_per_service, the
event store under event_sourcing): ``expected_version`` means the same to a
client either way.
"""

import uuid
from decimal import Decimal

import pytest

from order_service.orders.models import Order, OrderStatus
from order_service.orders.services import LineRequest
from order_service.orders.tests.api_support import PLACE_URL, cancel_url, place
from shared_events.models import OutboxMessage, StoredEvent


@pytest.fixture
def order(approach, ada) -> Order:
    return place(
        ada, LineRequest(sku="BOOK-1", quantity=1, unit_price=Decimal("10.00"))
    )


def test_cancel_at_the_expected_version_succeeds(api_client, order):
    response = api_client.post(
        cancel_url(order.id), {"expected_version": 1}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["version"]) == (
        "cancelled",
        2,
    )


@pytest.mark.parametrize("stale", [2, 5])
def test_cancel_at_another_version_is_409_and_changes_nothing(api_client, order, stale):
    events_before = StoredEvent.objects.filter(aggregate_id=order.id).count()
    outbox_before = OutboxMessage.objects.count()

    response = api_client.post(
        cancel_url(order.id), {"expected_version": stale}, format="json"
    )

    assert response.status_code == 409
    assert response.json() == {
        "detail": (
            f"order {order.id} is at version 1, not {stale}; reload it and try again"
        )
    }
    order.refresh_from_db()
    assert (order.status, order.version) == (OrderStatus.PLACED, 1)
    assert StoredEvent.objects.filter(aggregate_id=order.id).count() == events_before
    assert OutboxMessage.objects.count() == outbox_before


def test_a_second_cancel_with_the_version_it_read_is_409(api_client, order):
    api_client.post(cancel_url(order.id), {"expected_version": 1}, format="json")

    response = api_client.post(
        cancel_url(order.id), {"expected_version": 1}, format="json"
    )

    assert response.status_code == 409


@pytest.mark.parametrize("value", [0, -1, "one", 1.5, None])
def test_an_invalid_expected_version_is_400(api_client, order, value):
    response = api_client.post(
        cancel_url(order.id), {"expected_version": value}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["expected_version"]
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED


def test_place_ignores_fields_the_server_owns(api_client, approach, ada):
    chosen_id = uuid.uuid4()

    response = api_client.post(
        PLACE_URL,
        {
            "customer_id": str(ada.id),
            "lines": [{"sku": "BOOK-1", "quantity": 2, "unit_price": "5.00"}],
            "id": str(chosen_id),
            "version": 42,
            "status": "cancelled",
            "total": "0.01",
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["id"] != str(chosen_id)
    assert (body["version"], body["status"], body["total"]) == (1, "placed", "10.00")
    row = Order.objects.get()
    assert (row.version, row.status, row.total) == (1, "placed", Decimal("10.00"))


def test_cancel_ignores_fields_the_server_owns(api_client, order):
    response = api_client.post(
        cancel_url(order.id),
        {"status": "placed", "total": "0.00", "version": 9, "id": str(uuid.uuid4())},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["status"]) == (
        str(order.id),
        "cancelled",
    )
    order.refresh_from_db()
    assert (order.version, order.total) == (2, Decimal("10.00"))

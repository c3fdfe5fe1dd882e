"""Optimistic concurrency on orders: versions in the API, 409 for a stale cancel.

Run under both kinds of repository (a state table under db_per_service, the
event store under event_sourcing): ``expected_version`` means the same to a
client either way.
"""

import uuid
from decimal import Decimal

import pytest

from order_service.orders.models import Order
from order_service.orders.services import LineRequest
from order_service.orders.tests.api_support import PLACE_URL, cancel_url, place
from shared_events.models import OutboxMessage, StoredEvent


@pytest.fixture
def order(approach, ada) -> Order:
    return place(
        ada, LineRequest(sku="BOOK-1", quantity=1, unit_price=Decimal("10.00"))
    )


def placed_as(approach: str) -> tuple[int, str]:
    """An order's version and status once placed: approved at once where the
    order service checks the credit limit itself, pending under the saga."""
    return (1, "pending") if approach == "event_sourcing" else (2, "approved")


def test_cancel_at_the_expected_version_succeeds(api_client, order):
    response = api_client.post(
        cancel_url(order.id), {"expected_version": order.version}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["version"]) == (
        "cancelled",
        order.version + 1,
    )


@pytest.mark.parametrize("ahead", [1, 4])
def test_cancel_at_another_version_is_409_and_changes_nothing(api_client, order, ahead):
    stale = order.version + ahead
    placed = (order.status, order.version)
    events_before = StoredEvent.objects.filter(aggregate_id=order.id).count()
    outbox_before = OutboxMessage.objects.count()

    response = api_client.post(
        cancel_url(order.id), {"expected_version": stale}, format="json"
    )

    assert response.status_code == 409
    assert response.json() == {
        "detail": (
            f"order {order.id} is at version {order.version}, not {stale}; reload "
            "it and try again"
        )
    }
    order.refresh_from_db()
    assert (order.status, order.version) == placed
    assert StoredEvent.objects.filter(aggregate_id=order.id).count() == events_before
    assert OutboxMessage.objects.count() == outbox_before


def test_a_second_cancel_with_the_version_it_read_is_409(api_client, order):
    read = {"expected_version": order.version}
    api_client.post(cancel_url(order.id), read, format="json")

    response = api_client.post(cancel_url(order.id), read, format="json")

    assert response.status_code == 409


@pytest.mark.parametrize("value", [0, -1, "one", 1.5, None])
def test_an_invalid_expected_version_is_400(api_client, order, value):
    response = api_client.post(
        cancel_url(order.id), {"expected_version": value}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["expected_version"]
    placed = order.status
    order.refresh_from_db()
    assert order.status == placed


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
    version, status = placed_as(approach)
    assert (body["version"], body["status"], body["total"]) == (
        version,
        status,
        "10.00",
    )
    row = Order.objects.get()
    assert (row.version, row.status, row.total) == (version, status, Decimal("10.00"))


def test_cancel_ignores_fields_the_server_owns(api_client, order):
    response = api_client.post(
        cancel_url(order.id),
        {"status": "pending", "total": "0.00", "version": 9, "id": str(uuid.uuid4())},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["status"]) == (
        str(order.id),
        "cancelled",
    )
    placed_version = order.version
    order.refresh_from_db()
    assert (order.version, order.total) == (placed_version + 1, Decimal("10.00"))

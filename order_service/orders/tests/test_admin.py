"""The order admin shows orders but cannot bypass the aggregate.

Placing and cancelling go through the API, so that they record events
(under event sourcing: in the event store and the outbox). Even a superuser
gets 403.
"""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from order_service.orders.customers import CustomerSnapshot
from order_service.orders.models import Order, OrderStatus
from order_service.orders.services import LineRequest, order_place
from shared_events.models import StoredEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("event_sourcing")]


@pytest.fixture
def order(customer_directory) -> Order:
    ada = customer_directory.add(
        CustomerSnapshot(id=uuid.uuid4(), name="Ada", email="ada@example.com")
    )
    return order_place(
        customer_id=ada.id,
        lines=[LineRequest(sku="BOOK-1", quantity=2, unit_price=Decimal("9.50"))],
    ).order


def test_staff_see_orders_and_their_lines(admin_client, order):
    changelist = admin_client.get(reverse("admin:orders_order_changelist"))
    change = admin_client.get(reverse("admin:orders_order_change", args=[order.id]))

    assert changelist.status_code == change.status_code == 200
    assert str(order.id) in changelist.content.decode()
    assert "BOOK-1" in change.content.decode()
    assert 'name="_save"' not in change.content.decode()


def test_the_admin_cannot_add_change_or_delete_an_order(admin_client, order):
    add = admin_client.post(reverse("admin:orders_order_add"), {})
    change = admin_client.post(
        reverse("admin:orders_order_change", args=[order.id]),
        {"status": OrderStatus.CANCELLED},
    )
    delete = admin_client.post(
        reverse("admin:orders_order_delete", args=[order.id]), {"post": "yes"}
    )

    assert (add.status_code, change.status_code, delete.status_code) == (
        403,
        403,
        403,
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert StoredEvent.objects.count() == 1

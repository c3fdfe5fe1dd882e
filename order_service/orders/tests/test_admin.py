"""The order admin shows orders and their lines but cannot bypass the
aggregate (``service_kit.testing.admin_contract``)."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from order_service.orders.customers import CustomerSnapshot
from order_service.orders.models import (
    OPEN_STATUSES,
    CustomerReplica,
    Order,
    OrderStatus,
)
from order_service.orders.services import LineRequest, order_place
from service_kit.testing.admin_contract import ReadOnlyAggregateAdminContract

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("event_sourcing")]


class TestOrderAdmin(ReadOnlyAggregateAdminContract):
    admin_name = "orders_order"
    add_data = {}
    change_data = {"status": OrderStatus.CANCELLED}

    @pytest.fixture
    def aggregate(self, customer_directory) -> Order:
        ada = customer_directory.add(
            CustomerSnapshot(id=uuid.uuid4(), name="Ada", email="ada@example.com")
        )
        return order_place(
            customer_id=ada.id,
            lines=[LineRequest(sku="BOOK-1", quantity=2, unit_price=Decimal("9.50"))],
        ).order

    def on_changelist(self, aggregate) -> str:
        return str(aggregate.id)

    def on_change_page(self, aggregate) -> list[str]:
        return ["BOOK-1"]

    def assert_unchanged(self, aggregate) -> None:
        aggregate.refresh_from_db()
        assert aggregate.status in OPEN_STATUSES


def test_the_customer_replica_is_shown_and_never_changed(admin_client):
    replica = CustomerReplica.objects.create(
        id=uuid.uuid4(), name="Ada", email="ada@example.com", address="London"
    )
    changelist_url = reverse("admin:orders_customerreplica_changelist")
    change_url = reverse("admin:orders_customerreplica_change", args=[replica.id])

    changelist, change = admin_client.get(changelist_url), admin_client.get(change_url)
    refused = admin_client.post(change_url, {"name": "Eve"})

    assert (changelist.status_code, change.status_code) == (200, 200)
    assert "Ada" in changelist.content.decode()
    assert 'name="_save"' not in change.content.decode()
    assert refused.status_code == 403
    replica.refresh_from_db()
    assert replica.name == "Ada"


def test_without_a_read_database_the_read_models_are_left_out(admin_client):
    index = admin_client.get(reverse("admin:index")).content.decode()
    changelist = admin_client.get(reverse("admin:order_views_orderview_changelist"))

    assert reverse("admin:order_views_orderview_changelist") not in index
    assert changelist.status_code == 403  # not a 500 on a missing table

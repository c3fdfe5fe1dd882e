"""The order admin shows orders and their lines but cannot bypass the
aggregate (``service_kit.testing.admin_contract``)."""

import uuid
from decimal import Decimal

import pytest

from order_service.orders.customers import CustomerSnapshot
from order_service.orders.models import Order, OrderStatus
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
        assert aggregate.status == OrderStatus.PLACED

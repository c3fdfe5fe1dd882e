"""What the order API tests share: the routes, request bodies, placed orders."""

from decimal import Decimal

from django.urls import reverse

from order_service.orders.models import Order
from order_service.orders.services import LineRequest, order_place
from service_kit.testing.routes import AggregateRoute

LIST_URL = reverse("order-list")
PLACE_URL = reverse("order-place")
detail_url = AggregateRoute("order-detail", "order_id")
cancel_url = AggregateRoute("order-cancel", "order_id")
history_url = AggregateRoute("order-history", "order_id")
as_of_url = AggregateRoute("order-as-of", "order_id")


def line(**overrides) -> dict:
    return {"sku": "BOOK-1", "quantity": 1, "unit_price": "10.00", **overrides}


def placement(customer, **overrides) -> dict:
    return {"customer_id": str(customer.id), "lines": [line()], **overrides}


def place(customer, *lines: LineRequest) -> Order:
    """An order placed through the service (one line at 1.00 unless given)."""
    return order_place(
        customer_id=customer.id,
        lines=lines or [LineRequest(sku="BOOK-1", quantity=1, unit_price=Decimal(1))],
    ).order

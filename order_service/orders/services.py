"""Writes of orders: place and cancel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from order_service import bootstrap
from order_service.orders.models import Order, OrderLine, OrderStatus
from shared_events.errors import ApplicationError

# The largest total Order.total (14 digits, 2 of them decimal) can store.
MAX_ORDER_TOTAL = Decimal("999999999999.99")


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int
    unit_price: Decimal


def order_place(*, customer_id: UUID, lines: Sequence[LineRequest]) -> Order:
    """Place an order for a known customer.

    The customer check happens before the transaction opens: under
    db_per_service it is an HTTP call, and holding a database transaction
    open across a network call would tie up a connection while the customer
    service is slow.
    """
    if not lines:
        raise ApplicationError("an order needs at least one line", field="lines")
    total = sum((line.quantity * line.unit_price for line in lines), Decimal("0"))
    if total > MAX_ORDER_TOTAL:
        raise ApplicationError(
            f"the order total may not exceed {MAX_ORDER_TOTAL}", field="lines"
        )
    directory = bootstrap.wiring().customer_directory
    if directory.get(customer_id) is None:
        raise ApplicationError(
            f"no customer with id {customer_id}", field="customer_id"
        )
    with transaction.atomic():
        order = Order.objects.create(customer_id=customer_id, total=total)
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                position=position,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for position, line in enumerate(lines, start=1)
        )
    return order


@transaction.atomic
def order_cancel(*, order: Order) -> Order:
    """Cancel a placed order; cancelling a cancelled order is refused."""
    order = Order.objects.select_for_update().get(id=order.id)
    if order.status == OrderStatus.CANCELLED:
        raise ApplicationError("the order is already cancelled", field="status")
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = timezone.now()
    order.save(update_fields=["status", "cancelled_at", "updated_at"])
    return order

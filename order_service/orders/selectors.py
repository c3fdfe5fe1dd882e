"""Reads of orders, narrowed to the caller's scope (service_kit.access).

Another customer's order is not found (404), in lists as in details.
"""

from collections.abc import Sequence
from uuid import UUID

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from order_service import wiring
from order_service.orders.customers import CustomerSnapshot
from order_service.orders.domain import OrderAggregate
from order_service.orders.models import Order
from service_kit.access import CustomerScope
from shared_events.errors import DependencyUnavailable
from shared_events.models import StoredEvent


def order_list(
    *,
    scope: CustomerScope,
    customer_id: UUID | None = None,
    status: str | None = None,
) -> QuerySet[Order]:
    orders = scope.narrow(Order.objects.prefetch_related("lines"))
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    if status:
        orders = orders.filter(status=status)
    return orders


def order_get(*, scope: CustomerScope, order_id: UUID) -> Order:
    """The order, or Http404 (an unknown id or another customer's order)."""
    orders = scope.narrow(Order.objects.prefetch_related("lines"))
    return get_object_or_404(orders, id=order_id)


def order_customers(*, orders: list[Order]) -> dict[UUID, CustomerSnapshot]:
    """The customers of these orders, as the current approach can see them."""
    ids = {order.customer_id for order in orders}
    if not ids:
        return {}
    try:
        return wiring.current().customer_directory.get_many(ids)
    except DependencyUnavailable:
        # Reads degrade instead of failing: the names are missing, the orders
        # are not.
        return {}


def order_history(*, scope: CustomerScope, order_id: UUID) -> Sequence[StoredEvent]:
    """The events the order recorded, oldest first, a rejected placement's too.

    Http404 for an order that recorded none; ``HistoryNotKept`` (404 with
    the reason) under an approach that stores current state only.
    """
    events = wiring.current().order_history.events(order_id)
    _require_in_scope(scope, events)
    return events


def order_as_of(
    *, scope: CustomerScope, order_id: UUID, version: int
) -> OrderAggregate:
    """The order as its events up to ``version`` leave it.

    Http404 for an unknown order, ``VersionNotRecorded`` for a version it has
    not reached, ``HistoryNotKept`` where the approach keeps no events.
    """
    history = wiring.current().order_history
    _require_in_scope(scope, history.events(order_id))
    return history.state_as_of(order_id, version)


def _require_in_scope(scope: CustomerScope, events: Sequence[StoredEvent]) -> None:
    """Http404 unless the order's customer is in scope.

    The first event (OrderPlaced or OrderRejected) names the customer; a
    rejected placement has no order row to check, only its events. (A
    QuerySet from PostgreSQL or a list from DynamoDB: the history's events
    are never empty, an order without events is Http404 already.)
    """
    if scope.everyone:
        return
    first = events[0]
    scope.require(first.payload.get("customer_id"), "events")

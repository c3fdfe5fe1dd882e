"""Reads of the OrderView read model: query code, approach 5.

Nothing here names a database: the router sends read models to the read
database, so these queries never touch the write side (event store, outbox,
order tables). Nothing here can write either: outside a projection the
router refuses writes to a read model.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db.models import Max, QuerySet
from django.shortcuts import get_object_or_404

from order_service.order_views.models import OrderView
from service_kit.access import CustomerScope

ORDER_VIEW_STATUSES = ("pending", "approved", "rejected", "cancelled")


def order_view_list(
    *,
    scope: CustomerScope,
    customer_id: UUID | None = None,
    status: str | None = None,
) -> QuerySet[OrderView]:
    """Order views, oldest placement first, ties by id so pages do not overlap."""
    filters = {"customer_id": customer_id, "status": status}
    given = {field: value for field, value in filters.items() if value}
    return scope.narrow(OrderView.objects.filter(**given))


def order_view_get(*, scope: CustomerScope, order_id: UUID) -> OrderView:
    """The order's view, or Http404 (unknown, or another customer's order)."""
    return get_object_or_404(scope.narrow(OrderView.objects.all()), order_id=order_id)


def order_view_projected_at() -> datetime | None:
    """When the projection last wrote any order view (None: never)."""
    return OrderView.objects.aggregate(newest=Max("projected_at"))["newest"]

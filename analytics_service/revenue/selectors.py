"""Reading revenue per customer per day: the only code that reads the tables."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from django.db.models import QuerySet

from analytics_service.revenue.models import DailyRevenue
from service_kit.access import CustomerScope


def daily_revenue_list(
    *,
    scope: CustomerScope,
    customer_id: UUID | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
) -> QuerySet[DailyRevenue]:
    """Days with revenue, oldest first, narrowed to the caller's customers.

    A day whose orders were all cancelled keeps its row with 0 orders: the
    analytics say that the day had orders once.
    """
    rows = scope.narrow(DailyRevenue.objects.all())
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    if day_from is not None:
        rows = rows.filter(day__gte=day_from)
    if day_to is not None:
        rows = rows.filter(day__lte=day_to)
    return rows.order_by("day", "customer_id")

"""Reads of the CustomerSummary read model: query code, approach 5.

Nothing here names a database: the router sends read models to the read
database, so these queries never touch the write side (event store, outbox,
customer table). Nothing here can write either: outside a projection the
router refuses writes to a read model.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db.models import F, Max, QuerySet
from django.shortcuts import get_object_or_404

from customer_service.summaries.models import CustomerSummary
from service_kit.access import CustomerScope

CUSTOMER_SUMMARY_ORDERINGS = (
    "name",
    "-name",
    "lifetime_value",
    "-lifetime_value",
    "order_count",
    "-order_count",
    "last_order_at",
    "-last_order_at",
)


def customer_summary_list(
    *,
    scope: CustomerScope,
    email: str | None = None,
    name: str | None = None,
    deleted: bool | None = False,
    ordering: str | None = None,
) -> QuerySet[CustomerSummary]:
    """Customer summaries; ``deleted=None`` means deleted or not.

    ``ordering`` is one of ``CUSTOMER_SUMMARY_ORDERINGS``; customers without
    a value (no order yet) come last either way, and ties go by id so that
    pages do not overlap.
    """
    summaries = scope.narrow(CustomerSummary.objects.all())
    if email:
        summaries = summaries.filter(email__iexact=email)
    if name:
        summaries = summaries.filter(name__icontains=name)
    if deleted is not None:
        summaries = summaries.filter(deleted=deleted)
    if ordering:
        if ordering not in CUSTOMER_SUMMARY_ORDERINGS:
            raise ValueError(f"cannot order customer summaries by {ordering!r}")
        field = F(ordering.removeprefix("-"))
        key = (
            field.desc(nulls_last=True)
            if ordering.startswith("-")
            else field.asc(nulls_last=True)
        )
        summaries = summaries.order_by(key, "customer_id")
    return summaries


def customer_summary_get(*, scope: CustomerScope, customer_id: UUID) -> CustomerSummary:
    """The customer's summary, deleted customers' too; Http404 if unknown.

    Another customer's summary is unknown to a customer user (404).
    """
    summaries = scope.narrow(CustomerSummary.objects.all())
    return get_object_or_404(summaries, customer_id=customer_id)


def customer_summary_projected_at() -> datetime | None:
    """When the projection last wrote any customer summary (None: never)."""
    return CustomerSummary.objects.aggregate(newest=Max("projected_at"))["newest"]

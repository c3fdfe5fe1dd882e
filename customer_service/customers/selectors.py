"""Reads of customer data."""

from collections.abc import Iterable
from uuid import UUID

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from customer_service.customers.models import Customer


def customer_list(
    *, ids: Iterable[UUID] | None = None, email: str | None = None
) -> QuerySet[Customer]:
    customers = Customer.objects.all()
    if ids is not None:
        customers = customers.filter(id__in=list(ids))
    if email:
        customers = customers.filter(email__iexact=email)
    return customers


def customer_get(*, customer_id: UUID) -> Customer:
    """The customer, or Http404 (an unknown id answers 404)."""
    return get_object_or_404(Customer, id=customer_id)

"""Reads of customer data, narrowed to the caller's scope (service_kit.access).

A customer outside the scope is not found (404), in lists as in details.
"""

from collections.abc import Iterable, Sequence
from uuid import UUID

from django.db.models import QuerySet, Value
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from customer_service import wiring
from customer_service.customers.domain import CustomerAggregate
from customer_service.customers.models import Customer
from service_kit.access import CustomerScope
from shared_events.models import StoredEvent


def customer_list(
    *,
    scope: CustomerScope,
    ids: Iterable[UUID] | None = None,
    email: str | None = None,
) -> QuerySet[Customer]:
    customers = scope.narrow(Customer.objects.all(), "id")
    if ids is not None:
        customers = customers.filter(id__in=list(ids))
    if email:
        customers = customers.alias(email_lower=Lower("email")).filter(
            email_lower=Lower(Value(email))
        )
    return customers


def customer_get(*, scope: CustomerScope, customer_id: UUID) -> Customer:
    """The customer, or Http404 (an unknown id or another's customer: 404)."""
    return get_object_or_404(scope.narrow(Customer.objects.all(), "id"), id=customer_id)


def customer_history(
    *, scope: CustomerScope, customer_id: UUID
) -> Sequence[StoredEvent]:
    """The events the customer recorded, oldest first, deleted customers too.

    Http404 for a customer that recorded none; ``HistoryNotKept`` (404 with
    the reason) under an approach that stores current state only.
    """
    scope.require(customer_id, "events")
    return wiring.current().customer_history.events(customer_id)


def customer_as_of(
    *, scope: CustomerScope, customer_id: UUID, version: int
) -> CustomerAggregate:
    """The customer as its events up to ``version`` leave it.

    Http404 for an unknown customer, ``VersionNotRecorded`` for a version it
    has not reached, ``HistoryNotKept`` where the approach keeps no events.
    """
    scope.require(customer_id, "events")
    return wiring.current().customer_history.state_as_of(customer_id, version)

"""Writes of customer accounts: link a user to a customer."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import transaction

from customer_service.accounts.models import CustomerAccount
from customer_service.customers.models import Customer
from shared_events.errors import ApplicationError


@transaction.atomic
def customer_user_link(*, username: str, customer_id: UUID):
    """Create (or relink) the user ``username`` as the customer's own user.

    The customer must exist now; a staff user cannot be linked (staff see
    every customer already, and a link would suggest otherwise).
    """
    if not Customer.objects.filter(id=customer_id).exists():
        raise ApplicationError(f"no customer with id {customer_id}", field="customer")
    user, _ = get_user_model().objects.get_or_create(username=username)
    if user.is_staff:
        raise ApplicationError(
            f"user {username!r} is staff; staff see every customer and are not "
            "linked to one",
            field="username",
        )
    CustomerAccount.objects.update_or_create(
        user=user, defaults={"customer_id": customer_id}
    )
    return user

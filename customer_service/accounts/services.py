"""Writes of customer accounts: link a user to a customer, revoke its tokens."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)

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


def user_tokens_revoke(*, user) -> int:
    """Blacklist every refresh token ``user`` holds that is still valid.

    Its access tokens are not recorded anywhere: they run out by themselves
    within minutes (``SIMPLE_JWT``), and this service refuses them at once
    (``customer_service.authentication.TokenUserIsCurrent``). Returns how
    many tokens were revoked.
    """
    outstanding = OutstandingToken.objects.filter(
        user_id=user.pk,
        expires_at__gt=timezone.now(),
        blacklistedtoken__isnull=True,
    )
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding],
        ignore_conflicts=True,
    )
    return len(revoked)

"""Reads of customer accounts."""

from __future__ import annotations

from uuid import UUID

from customer_service.accounts.models import CustomerAccount


def account_customer_id(user) -> UUID | None:
    """The customer ``user`` is linked to, or None (settings.CUSTOMER_ACCOUNT_LOOKUP).

    Cached on the user object: one query per request at most.
    """
    if not hasattr(user, "_linked_customer_id"):
        user._linked_customer_id = (
            CustomerAccount.objects.filter(user_id=user.pk)
            .values_list("customer_id", flat=True)
            .first()
        )
    return user._linked_customer_id

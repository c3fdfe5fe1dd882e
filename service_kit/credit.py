"""The credit limit setting, read once and checked: a clear error, never a guess."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured


def credit_limit(text: str) -> Decimal:
    """``CREDIT_LIMIT`` as money: a finite amount of at least 0, in cents."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0:
        raise ImproperlyConfigured(
            f"CREDIT_LIMIT must be an amount of money of at least 0, not {text!r}"
        )
    return value.quantize(Decimal("0.01"))

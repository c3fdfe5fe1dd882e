"""The order service's port to the credit rule, and its two adapters.

A customer's open orders may not add up to more than their credit limit. The
rule spans both services: the customer service owns the limit, the order
service the orders. Which of the two decides, and when, is the difference
``order_service.bootstrap`` chooses:

* ``CheckThenPlace`` (approaches 1 to 3): the order service adds up the
  customer's open orders, compares with the limit it was told, and places the
  order APPROVED, or refuses it. Two placements at once both pass the check
  before either commits, so together they can break the limit: nothing
  locks across the check and the write (the lab's credit-limit-race).
* ``CreditSaga`` (approaches 4 and 5): the order is placed PENDING and the
  customer service answers its ``OrderPlaced`` with ``CreditReserved`` or
  ``CreditLimitExceeded``, one order at a time per customer, from the
  reservations in its own aggregate: the limit holds, at the price of an
  answer that comes later.

The race needs two placements inside the few milliseconds between the sum
and the commit. ``FAULT_INJECTION=slow_credit_check:<ms>`` holds that window
open (the lab's credit-limit-race starts an order service with it), so the
race it shows at any load happens on every run.
"""

from __future__ import annotations

import abc
import logging
import time
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db.models import Sum

from order_service.orders.customers import CustomerSnapshot
from order_service.orders.models import OPEN_STATUSES, Order
from shared_events.write_side.repositories import SLOW_CREDIT_CHECK

logger = logging.getLogger(__name__)


class CreditRule(abc.ABC):
    """How the order service holds an order to its customer's credit limit."""

    # The rule is decided when the order is placed (approved at once).
    decides_at_placement: bool

    @abc.abstractmethod
    def refusal(self, *, customer: CustomerSnapshot, total: Decimal) -> str | None:
        """Why the order must be refused now; None to place it."""


class CheckThenPlace(CreditRule):
    decides_at_placement = True

    def __init__(self, *, hold_seconds: float = 0.0) -> None:
        # The injected fault: how long the answer is held before the write.
        self.hold_seconds = hold_seconds

    def refusal(self, *, customer: CustomerSnapshot, total: Decimal) -> str | None:
        limit = (
            settings.CREDIT_LIMIT
            if customer.credit_limit is None
            else customer.credit_limit
        )
        available = limit - open_order_total(customer.id)
        if self.hold_seconds:
            time.sleep(self.hold_seconds)
        if total <= available:
            return None
        return (
            f"the order total {total:.2f} exceeds the credit this customer has "
            f"left ({max(available, Decimal('0')):.2f} of {limit:.2f})"
        )


class CreditSaga(CreditRule):
    decides_at_placement = False

    def refusal(self, *, customer: CustomerSnapshot, total: Decimal) -> str | None:
        return None  # the customer service answers the OrderPlaced


def credit_check_hold(fault: str) -> float:
    """Seconds a ``slow_credit_check:<ms>`` fault holds the check open; 0 for
    any other fault (or none). ValueError, naming the problem, when malformed
    (rather than run without the fault the learner asked for)."""
    kind, _, rest = (fault or "").strip().partition(":")
    if kind.strip() != SLOW_CREDIT_CHECK:
        return 0.0
    try:
        milliseconds = int(rest.strip())
    except ValueError:
        milliseconds = 0
    if milliseconds <= 0:
        raise ValueError(
            f"FAULT_INJECTION={fault!r}: expected {SLOW_CREDIT_CHECK}:<ms>, a "
            f"positive number of milliseconds, e.g. {SLOW_CREDIT_CHECK}:300"
        )
    logger.warning(
        "fault injection: the credit check holds its answer %d ms", milliseconds
    )
    return milliseconds / 1000


def open_order_total(customer_id: UUID) -> Decimal:
    """What the customer's open (pending or approved) orders add up to."""
    total = Order.objects.filter(
        customer_id=customer_id, status__in=OPEN_STATUSES
    ).aggregate(total=Sum("total"))["total"]
    return total or Decimal("0")

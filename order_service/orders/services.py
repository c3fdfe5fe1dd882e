"""Writes of orders: place and cancel, what a deleted customer means, and
the order service's side of the credit saga (approve, reject).

Each service function loads the Order aggregate through the repository the
composition root chose, calls a command on it, and saves it, inside one
transaction. Which approach is running is not this module's concern.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db import transaction

from order_service import wiring
from order_service.orders.customers import CustomerSnapshot
from order_service.orders.domain import (
    CREDIT_LIMIT_EXCEEDED,
    OrderAggregate,
    OrderLineValue,
)
from order_service.orders.models import OPEN_STATUSES, Order
from shared_events.errors import ApplicationError
from shared_events.write_side import ConcurrencyConflict

# The largest total Order.total (14 digits, 2 of them decimal) can store.
MAX_ORDER_TOTAL = Decimal("999999999999.99")


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class PlacedOrder:
    """A placed order as written, and the customer it was checked against.

    Enough to answer the request without reading either back.
    """

    order: Order
    customer: CustomerSnapshot


def order_place(*, customer_id: UUID, lines: Sequence[LineRequest]) -> PlacedOrder:
    """Place an order for a known customer.

    The customer is looked up once, before the transaction opens: under
    db_per_service it is an HTTP call, and holding a database transaction
    open across a network call would tie up a connection while the customer
    service is slow. Inside the transaction a directory in the order
    service's own database locks the customer's row. A placement refused for
    an unknown customer, or over the credit limit where the order service
    checks it itself, is recorded too (``OrderRejected``): the event store
    keeps it, a state table ignores it.

    The credit rule (``order_service.orders.credit``) either approves the
    order here, in the same transaction, or leaves it PENDING for the
    customer service to answer.
    """
    if not lines:
        raise ApplicationError("an order needs at least one line", field="lines")
    values = [
        OrderLineValue(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price)
        for line in lines
    ]
    total = sum((value.total for value in values), Decimal("0"))
    if total > MAX_ORDER_TOTAL:
        raise ApplicationError(
            f"the order total may not exceed {MAX_ORDER_TOTAL}", field="lines"
        )
    adapters = wiring.current()
    customer = adapters.customer_directory.get(customer_id)
    credit = adapters.credit_rule
    # Checked, then placed: nothing holds the answer until the order commits.
    refusal = (
        None if customer is None else credit.refusal(customer=customer, total=total)
    )
    order_id = uuid.uuid4()
    with transaction.atomic():
        known = customer is not None and (
            adapters.customer_directory.confirm_in_transaction(customer_id)
        )
        if known and refusal is None:
            order = OrderAggregate.place(
                order_id=order_id, customer_id=customer_id, lines=values
            )
            if credit.decides_at_placement:
                order.approve()
        else:
            order = OrderAggregate.reject(
                order_id=order_id,
                customer_id=customer_id,
                reason=CREDIT_LIMIT_EXCEEDED if known else "unknown customer",
            )
        saved = adapters.order_repository.save(order)
    if not known:
        raise ApplicationError(
            f"no customer with id {customer_id}"
            + adapters.customer_directory.unknown_hint,
            field="customer_id",
        )
    if refusal is not None:
        raise ApplicationError(refusal, field="lines")
    row = saved.row
    if row is None:  # a table that does not hand its new row back
        row = Order.objects.prefetch_related("lines").get(id=order_id)
    return PlacedOrder(order=row, customer=customer)


@transaction.atomic
def order_cancel(
    *,
    order: Order,
    reason: str = "customer_request",
    expected_version: int | None = None,
) -> Order:
    """Cancel an open (pending or approved) order; anything else is refused.

    The order's row is locked first, as the saga's answer locks it: a
    cancellation and an approval of the same order take turns instead of
    failing on the version both loaded.
    """
    repository = wiring.current().order_repository
    _lock_order_row(order.id)
    aggregate = repository.get(order.id)
    if aggregate is None:
        raise Order.DoesNotExist(f"order {order.id} does not exist")
    if expected_version is not None and expected_version != aggregate.version:
        raise ConcurrencyConflict(
            f"order {order.id} is at version {aggregate.version}, not "
            f"{expected_version}; reload it and try again"
        )
    aggregate.cancel(reason=reason)
    repository.save(aggregate)
    return Order.objects.get(id=order.id)


def orders_cancel_for_deleted_customer(*, customer_id: UUID) -> int:
    """Cancel every open order of a customer who no longer exists.

    Run by the order service's consumer when ``CustomerDeleted`` arrives, in
    the same transaction as the processed-event record.
    """
    repository = wiring.current().order_repository
    open_orders = Order.objects.filter(
        customer_id=customer_id, status__in=OPEN_STATUSES
    ).values_list("id", flat=True)
    cancelled = 0
    for order_id in list(open_orders):
        aggregate = repository.get(order_id)
        if aggregate is not None and aggregate.status in OPEN_STATUSES:
            aggregate.cancel(reason="customer_deleted")
            repository.save(aggregate)
            cancelled += 1
    return cancelled


def _answer_order(order_id: UUID, answer) -> bool:
    """Apply the customer service's answer to a pending order, row locked.

    The lock orders this with a cancellation of the same order: whichever
    commits second sees the other's status. An answer to an order that is
    no longer pending (cancelled meanwhile) changes nothing.
    """
    repository = wiring.current().order_repository
    _lock_order_row(order_id)
    aggregate = repository.get(order_id)
    if aggregate is None or not answer(aggregate):
        return False
    repository.save(aggregate)
    return True


def _lock_order_row(order_id: UUID) -> None:
    """Lock the order's state row, if it has one (under ``EVENT_STORE=dynamodb``
    it may lag its events: the events decide, the version check still guards)."""
    list(Order.objects.select_for_update().filter(id=order_id).values_list("id"))


def order_approve(*, order_id: UUID) -> bool:
    """Approve a pending order: the customer service reserved its credit."""
    return _answer_order(order_id, OrderAggregate.approve)


def order_refuse_credit(*, order_id: UUID) -> bool:
    """Reject a pending order: its customer's credit limit would be exceeded."""
    return _answer_order(order_id, OrderAggregate.refuse_credit)


def order_state_keep(order_id: UUID, version: int) -> bool:
    """Bring an order's state row up to a commit its event table committed.

    Called for every commit on the table's stream (``EVENT_STORE=dynamodb``,
    ``publish_committed``); True when the row was behind. A placement whose
    process died after its ``PutItem`` and before its PostgreSQL commit left
    no row, so a ``CustomerDeleted`` applied meanwhile found no order to
    cancel. Once its row exists, the order is held to the same rule as any
    placement: its customer's replica row is locked and checked, and an
    order whose customer is gone is cancelled here. (The lock orders this
    with the deletion's handler: whichever commits second sees the other.)
    """
    adapters = wiring.current()
    repository = adapters.order_repository
    with transaction.atomic():
        if not repository.heal(order_id, loaded_version=version):
            return False
        order = Order.objects.filter(id=order_id, status__in=OPEN_STATUSES).first()
        if order is not None and not (
            adapters.customer_directory.confirm_in_transaction(order.customer_id)
        ):
            aggregate = repository.get(order_id)
            aggregate.cancel(reason="customer_deleted")
            repository.save(aggregate)
    return True

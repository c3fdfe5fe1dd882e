"""Writes of customer data: register, change, delete, and the customer's
side of the credit saga (reserve, release).

Each service function loads the Customer aggregate through the repository
the composition root chose, calls a command on it, and saves it, inside one
transaction. Which approach is running is not this module's concern.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Lower

from customer_service import wiring
from customer_service.customers.domain import CustomerAggregate
from customer_service.customers.models import Customer
from customer_service.customers.repositories import DUPLICATE_EMAIL
from shared_events.errors import ApplicationError, CommandRefused
from shared_events.write_side import ConcurrencyConflict


def _email_taken(email: str, *, excluding: Customer | None = None) -> bool:
    # lower(email) = lower(%s) uses the unique index on lower(email); Django's
    # iexact (UPPER(...) = UPPER(...)) would scan the whole table.
    others = Customer.objects.alias(email_lower=Lower("email")).filter(
        email_lower=Lower(Value(email))
    )
    if excluding is not None:
        others = others.exclude(id=excluding.id)
    return others.exists()


def _lock_row(customer_id: uuid.UUID) -> None:
    """Lock the customer's state row, if it has one, until the transaction ends.

    A command and the customer service's own consumer (the credit saga) may
    write the same customer at once; both take this lock first, so the
    second loads what the first recorded instead of failing on the version
    both loaded. (The row may lag its events under ``EVENT_STORE=dynamodb``:
    the events decide, and the version check still guards the write.)
    """
    list(Customer.objects.select_for_update().filter(id=customer_id).values_list("id"))


def _load(customer: Customer, expected_version: int | None) -> CustomerAggregate:
    _lock_row(customer.id)
    aggregate = wiring.current().customer_repository.get(customer.id)
    if aggregate is None or aggregate.deleted:
        raise Customer.DoesNotExist(f"customer {customer.id} does not exist")
    if expected_version is not None and expected_version != aggregate.version:
        raise ConcurrencyConflict(
            f"customer {customer.id} is at version {aggregate.version}, not "
            f"{expected_version}; reload it and try again"
        )
    return aggregate


@transaction.atomic
def customer_register(*, name: str, email: str, address: str) -> Customer:
    """Register a new customer.

    A taken email is refused by the unique index on lower(email) when the
    state row is written (400, field "email"), in this transaction, so the
    registration asks nothing before it writes.
    """
    customer = CustomerAggregate.register(
        customer_id=uuid.uuid4(),
        name=name.strip(),
        email=email.strip(),
        address=address.strip(),
    )
    saved = wiring.current().customer_repository.save(customer)
    if saved.row is None:  # a table that does not hand its new row back
        return Customer.objects.get(id=customer.id)
    return saved.row


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    name: str | None = None,
    email: str | None = None,
    address: str | None = None,
    expected_version: int | None = None,
) -> Customer:
    """Change a customer's name, email or address.

    The version is checked before the email: a stale change is a 409 whether
    or not the new email is taken, so a stale write cannot be used to ask
    which emails other customers have (only a current one learns that the
    email is taken, as registration does).
    """
    aggregate = _load(customer, expected_version)
    if email is not None and _email_taken(email.strip(), excluding=customer):
        raise ApplicationError(DUPLICATE_EMAIL, field="email")
    aggregate.change(
        name=name.strip() if name is not None else None,
        email=email.strip() if email is not None else None,
        address=address.strip() if address is not None else None,
    )
    wiring.current().customer_repository.save(aggregate)
    return Customer.objects.get(id=customer.id)


def customer_delete(
    *,
    customer: Customer,
    expected_version: int | None = None,
    cancel_open_orders: bool = False,
) -> None:
    """Delete the customer, or refuse while open orders hold their credit.

    Under shared_db the database cascades the delete to the customer's orders
    in this same transaction; under db_per_service nothing tells the order
    service, and the orders become orphans; from direct_publish on, a
    CustomerDeleted event does. Under event sourcing the customer service
    knows the orders holding credit and refuses unless ``cancel_open_orders``:
    the refusal is committed as ``CustomerDeletionRejected`` (the history
    keeps it), then answered with ``CommandRefused`` (409).
    """
    with transaction.atomic():
        aggregate = _load(customer, expected_version)
        deleted = aggregate.delete(cancel_open_orders=cancel_open_orders)
        refusal = None if deleted else aggregate.pending_events[-1].payload["reason"]
        wiring.current().customer_repository.save(aggregate)
    if refusal is not None:
        raise CommandRefused(f"the customer was not deleted: {refusal}")


def _locked_live_customer(customer_id: uuid.UUID) -> CustomerAggregate | None:
    """The customer, its state row locked first; None when it is gone.

    The lock puts two consumer processes answering orders of the same
    customer one after the other, so each decides against the other's
    reservation, and a command on the customer waits for the answer.
    """
    _lock_row(customer_id)
    aggregate = wiring.current().customer_repository.get(customer_id)
    return None if aggregate is None or aggregate.deleted else aggregate


def customer_credit_reserve(
    *, customer_id: uuid.UUID, order_id: uuid.UUID, amount: Decimal
) -> None:
    """Answer an order placed: hold its amount, or refuse it over the limit.

    Run by the customer service's consumer when ``OrderPlaced`` arrives, in
    the same transaction as the processed-event record. An order of a
    customer deleted meanwhile gets no answer: the order service cancels
    every open order of a deleted customer itself.
    """
    aggregate = _locked_live_customer(customer_id)
    if aggregate is None:
        return
    aggregate.reserve_credit(
        order_id=order_id, amount=amount, limit=settings.CREDIT_LIMIT
    )
    _save_answer(aggregate)


def customer_credit_release(*, customer_id: uuid.UUID, order_id: uuid.UUID) -> None:
    """Give back what a cancelled order held (the saga's compensation)."""
    aggregate = _locked_live_customer(customer_id)
    if aggregate is None:
        return
    aggregate.release_credit(order_id=order_id)
    _save_answer(aggregate)


def _save_answer(aggregate: CustomerAggregate) -> None:
    if aggregate.pending_events:  # an order already answered records nothing
        wiring.current().customer_repository.save(aggregate)


def customer_state_keep(customer_id: uuid.UUID, version: int) -> bool:
    """Bring a customer's state row up to a commit its event table committed.

    Called for every commit on the table's stream (``EVENT_STORE=dynamodb``,
    ``publish_committed``); True when the row was behind (its writer died
    between its ``PutItem`` and its PostgreSQL commit).
    """
    with transaction.atomic():
        return wiring.current().customer_repository.heal(
            customer_id, loaded_version=version
        )

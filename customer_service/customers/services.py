"""Writes of customer data: register, change, delete."""

from django.db import IntegrityError, transaction

from customer_service.customers.models import Customer
from shared_events.errors import ApplicationError


def _email_taken(email: str, *, excluding: Customer | None = None) -> bool:
    others = Customer.objects.filter(email__iexact=email)
    if excluding is not None:
        others = others.exclude(id=excluding.id)
    return others.exists()


def _save(customer: Customer) -> Customer:
    # The unique index on lower(email) is the real guard: two concurrent
    # registrations can both pass the friendly check above.
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise ApplicationError(
            "a customer with this email already exists", field="email"
        ) from None
    return customer


@transaction.atomic
def customer_register(*, name: str, email: str, address: str) -> Customer:
    email = email.strip()
    if _email_taken(email):
        raise ApplicationError(
            "a customer with this email already exists", field="email"
        )
    return _save(Customer(name=name.strip(), email=email, address=address.strip()))


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    name: str | None = None,
    email: str | None = None,
    address: str | None = None,
) -> Customer:
    if email is not None and _email_taken(email.strip(), excluding=customer):
        raise ApplicationError(
            "a customer with this email already exists", field="email"
        )
    if name is not None:
        customer.name = name.strip()
    if email is not None:
        customer.email = email.strip()
    if address is not None:
        customer.address = address.strip()
    return _save(customer)


@transaction.atomic
def customer_delete(*, customer: Customer) -> None:
    """Delete the customer.

    Under shared_db the database cascades the delete to the customer's orders
    in this same transaction; under db_per_service nothing tells the order
    service, and the orders become orphans.
    """
    customer.delete()

"""Branches of the customer services that the API tests cannot reach."""

import contextlib
import uuid

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError

from customer_service.customers import services
from customer_service.customers.domain import CustomerAggregate
from customer_service.customers.models import Customer
from customer_service.customers.repositories import CustomerStateTable
from customer_service.customers.services import customer_register, customer_update
from shared_events.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def rival_registers_first(monkeypatch):
    """Play the race: another request commits the same email right after our check.

    Both updates pass the friendly ``_email_taken`` check; only the unique
    index on lower(email) stops the second one. (Here the rival's row is
    written in our own transaction, so it rolls back with the refusal.)
    """

    def check_then_lose_the_race(email, *, excluding=None):
        Customer.objects.create(name="Rival", email=email.upper(), address="Elsewhere")
        return False

    monkeypatch.setattr(services, "_email_taken", check_then_lose_the_race)


def test_register_turns_the_unique_index_into_an_application_error():
    # Registration asks nothing first: the index on lower(email) refuses the
    # insert, whatever the case of the email.
    Customer.objects.create(name="Rival", email="ADA@example.com", address="Elsewhere")

    with pytest.raises(ApplicationError) as refused:
        customer_register(name="Ada", email="ada@example.com", address="London")

    assert refused.value.field == "email"
    assert refused.value.message == "a customer with this email already exists"
    assert list(Customer.objects.values_list("name", flat=True)) == ["Rival"]


def test_a_caller_that_swallows_the_refusal_cannot_go_on_in_the_transaction():
    Customer.objects.create(name="Rival", email="ada@example.com", address="Elsewhere")

    with pytest.raises(TransactionManagementError), transaction.atomic():
        with contextlib.suppress(ApplicationError):
            CustomerStateTable().write(
                CustomerAggregate.register(
                    customer_id=uuid.uuid4(),
                    name="Ada",
                    email="ada@example.com",
                    address="London",
                ),
                expected_version=0,
            )
        Customer.objects.count()  # refused: the insert aborted the transaction

    assert list(Customer.objects.values_list("name", flat=True)) == ["Rival"]


def test_update_turns_the_unique_index_into_an_application_error(
    rival_registers_first,
):
    customer = Customer.objects.create(
        name="Ada", email="ada@example.com", address="London"
    )

    with pytest.raises(ApplicationError) as refused:
        customer_update(customer=customer, email="grace@example.com")

    assert refused.value.field == "email"


def test_register_strips_the_values_it_is_given():
    customer = customer_register(
        name="  Ada ", email=" ada@example.com ", address=" London "
    )

    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.address) == (
        "Ada",
        "ada@example.com",
        "London",
    )

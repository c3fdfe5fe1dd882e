"""Approach 4 with EVENT_STORE=dynamodb in the customer service: the write store.

The contract every DynamoDB write model keeps is
``shared_events.testing.dynamodb_store_contract``; this module binds it to
the Customer aggregate and adds what only customers do: a command of several
events is one item, the unique email index still guards registrations, and a
crash on a later change is healed by the change after it.
"""

import itertools

import pytest
from django.db import transaction

from customer_service import bootstrap
from customer_service.customers import services
from customer_service.customers.domain import CustomerAggregate
from customer_service.customers.models import Customer
from customer_service.customers.services import (
    customer_delete,
    customer_register,
    customer_update,
)
from customer_service.customers.tests.api_support import (
    REGISTER_URL,
    valid_registration,
)
from shared_events.errors import ApplicationError
from shared_events.testing.dynamodb_store_contract import (
    Crash,
    DynamoDBEventStoreContract,
    event_types,
)
from shared_events.transport import messaging

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("event_sourcing")]

NAMES = (f"Countess Lovelace {n}" for n in itertools.count())


def register(**overrides) -> Customer:
    values = {"name": "Ada", "email": "ada@example.com", "address": "London"}
    return customer_register(**{**values, **overrides})


class TestCustomerDynamoDBEventStore(DynamoDBEventStoreContract):
    producer = "customer"
    aggregate = "customer"
    aggregate_class = CustomerAggregate
    state_model = Customer
    created_event = "CustomerRegistered"
    changed_event = "CustomerRenamed"
    composition_root = bootstrap
    subscriber = "order"

    def create(self) -> Customer:
        return register()

    def change(self, row, *, expected_version=None) -> Customer:
        return customer_update(
            customer=row, name=next(NAMES), expected_version=expected_version
        )

    def command(self, aggregate):
        aggregate.change(name=next(NAMES))

    def create_request(self):
        return {"path": REGISTER_URL, "data": valid_registration(), "format": "json"}

    def cached_state(self, aggregate_id):
        row = Customer.objects.get(id=aggregate_id)
        return (row.version, row.name, row.email, row.address)

    def folded_state(self, aggregate):
        return (aggregate.version, aggregate.name, aggregate.email, aggregate.address)

    def tamper(self, aggregate_id):
        Customer.objects.filter(id=aggregate_id).update(name="Tampered")

    # What only customers do --------------------------------------------------

    def test_a_command_of_several_events_is_one_item(self):
        customer = register()

        customer_update(customer=customer, email="ada@lovelace.org", address="Kent")

        first, second = self.items()
        assert (int(second["version"]["N"]), int(second["last_version"]["N"])) == (
            2,
            3,
        )
        assert event_types(second) == ["CustomerEmailChanged", "CustomerAddressChanged"]
        assert self.cached_state(customer.id) == self.folded_state(
            self.repository().get(customer.id)
        )

    def test_the_unique_email_index_refuses_before_anything_is_committed(
        self, monkeypatch
    ):
        # Both registrations pass the friendly check; the state row's index
        # stops the second, which is written before the commit: no item.
        monkeypatch.setattr(services, "_email_taken", lambda *a, **k: False)
        register(email="ada@example.com")

        with pytest.raises(ApplicationError):
            register(name="Rival", email="ADA@example.com")

        assert len(self.items()) == 1
        assert Customer.objects.get().name == "Ada"

    def test_a_crash_after_a_later_commit_is_healed_by_the_next_change(self):
        customer = register()
        with pytest.raises(Crash), transaction.atomic():
            customer_update(customer=customer, name="Lost Name")
            raise Crash
        assert self.cached_state(customer.id)[:2] == (1, "Ada")  # behind
        assert self.repository().get(customer.id).name == "Lost Name"

        customer = customer_update(customer=customer, address="Kent")

        assert (customer.version, customer.name, customer.address) == (
            3,
            "Lost Name",
            "Kent",
        )
        assert [int(item["version"]["N"]) for item in self.items()] == [1, 2, 3]

    def test_a_deleted_customers_commits_leave_no_row_and_stall_nothing(self):
        customer = register()
        customer_delete(customer=customer)

        answer = self.publish_from_the_stream()

        assert answer == {"batchItemFailures": []}
        assert not Customer.objects.filter(id=customer.id).exists()

    def test_a_row_that_cannot_be_healed_does_not_stall_the_stream(self):
        lost = []
        with pytest.raises(Crash), transaction.atomic():
            lost.append(register(email="ada@example.com"))
            raise Crash  # committed in DynamoDB, rolled back in PostgreSQL
        # The client tried again: a second customer with the same email.
        again = register(name="Ada again", email="ada@example.com")

        answer = self.publish_from_the_stream()

        # Both commits published; the first one's row stays behind (the
        # unique email index refuses it), as the relay's log says.
        assert answer == {"batchItemFailures": []}
        assert list(Customer.objects.values_list("id", flat=True)) == [again.id]
        inbox = messaging.routes().consumer(self.subscriber).queue_url
        assert len(self.receive(inbox, count=2)) == 2

"""Approach 4 in the customer service: the event store is the write model.

The contract every event-sourced write model keeps is
``shared_events.testing.event_store_contract``; this module binds it to the
Customer aggregate and adds what only customers do: their payloads, a
change that changes nothing, and the unique email index.
"""

import itertools

import pytest

from customer_service.customers import services
from customer_service.customers.domain import CustomerAggregate
from customer_service.customers.models import Customer
from customer_service.customers.services import (
    customer_delete,
    customer_register,
    customer_update,
)
from shared_events.errors import ApplicationError
from shared_events.models import OutboxMessage, StoredEvent
from shared_events.testing.event_store_contract import (
    EventStoreContract,
    stored_events,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("event_sourcing")]


def register(**overrides) -> Customer:
    values = {"name": "Ada", "email": "ada@example.com", "address": "London"}
    return customer_register(**{**values, **overrides})


class TestCustomerEventStore(EventStoreContract):
    producer = "customer"
    aggregate_class = CustomerAggregate
    state_model = Customer
    created_event = "CustomerRegistered"
    changed_event = "CustomerRenamed"
    names = (f"Countess Lovelace {n}" for n in itertools.count())

    def create(self) -> Customer:
        return register()

    def change(self, row, *, expected_version=None) -> Customer:
        return customer_update(
            customer=row, name=next(self.names), expected_version=expected_version
        )

    def repository(self):
        return self.wiring.customer_repository

    def cached_state(self, aggregate_id):
        row = Customer.objects.get(id=aggregate_id)
        return (row.version, row.name, row.email, row.address)

    def folded_state(self, aggregate):
        return (aggregate.version, aggregate.name, aggregate.email, aggregate.address)

    def tamper(self, aggregate_id):
        # What the admin no longer allows.
        Customer.objects.filter(id=aggregate_id).update(name="Tampered")


def test_register_rename_delete_record_their_payloads():
    customer = register()
    customer = customer_update(customer=customer, name="Countess Lovelace")
    customer_delete(customer=customer)

    events = stored_events(customer.id)
    assert [(event.aggregate_version, event.event_type) for event in events] == [
        (1, "CustomerRegistered"),
        (2, "CustomerRenamed"),
        (3, "CustomerDeleted"),
    ]
    assert [event.payload for event in events] == [
        {
            "customer_id": str(customer.id),
            "name": "Ada",
            "email": "ada@example.com",
            "address": "London",
        },
        {"customer_id": str(customer.id), "name": "Countess Lovelace"},
        {"customer_id": str(customer.id)},
    ]
    assert not Customer.objects.filter(id=customer.id).exists()


def test_a_change_that_changes_nothing_records_nothing():
    customer = register()

    customer_update(customer=customer, name="Ada", address="London")

    assert len(stored_events(customer.id)) == 1
    assert Customer.objects.get(id=customer.id).version == 1


def test_an_email_and_an_address_change_are_two_events():
    customer = register()

    customer_update(customer=customer, email="ada@lovelace.org", address="Kent")

    assert [row.event_type for row in OutboxMessage.objects.order_by("id")] == [
        "CustomerRegistered",
        "CustomerEmailChanged",
        "CustomerAddressChanged",
    ]


def test_a_state_write_refused_by_the_unique_email_index_appends_nothing(
    monkeypatch,
):
    # Both registrations pass the friendly check; the index stops the second
    # after its event was appended, and the event goes with the refusal.
    monkeypatch.setattr(services, "_email_taken", lambda email, excluding=None: False)
    register(email="ada@example.com")

    with pytest.raises(ApplicationError):
        register(name="Rival", email="ADA@example.com")

    assert StoredEvent.objects.count() == 1
    assert OutboxMessage.objects.count() == 1
    assert Customer.objects.get().name == "Ada"

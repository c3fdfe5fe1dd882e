"""Approach 4 in the customer service: the event store is the write model.

Every test runs with the ``event_sourcing`` fixture (the wiring the
composition root builds for event_sourcing). What a learner should see:
each command appends numbered events, the outbox row commits or rolls back
with them, and the ``customers_customer`` row is only a cache of their fold.
"""

import pytest
from django.db import DatabaseError, connection, transaction

from customer_service.customers import services
from customer_service.customers.domain import CustomerAggregate
from customer_service.customers.models import Customer
from customer_service.customers.services import (
    customer_delete,
    customer_register,
    customer_update,
)
from shared_events.errors import ApplicationError, ConcurrencyConflict
from shared_events.event_store import event_store_load
from shared_events.events import from_json
from shared_events.models import OutboxMessage, StoredEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("event_sourcing")]


class Refused(Exception):
    pass


def register(**overrides) -> Customer:
    values = {"name": "Ada", "email": "ada@example.com", "address": "London"}
    return customer_register(**{**values, **overrides})


def stored_events(customer_id) -> list[StoredEvent]:
    return list(
        StoredEvent.objects.filter(aggregate_id=customer_id).order_by(
            "aggregate_version"
        )
    )


def refuse_outbox_writes() -> None:
    """From here on in this test's transaction, PostgreSQL refuses outbox rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_outbox_write() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RAISE EXCEPTION 'the outbox write failed'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_outbox_write BEFORE INSERT ON event_outbox"
            " FOR EACH ROW EXECUTE FUNCTION refuse_outbox_write()"
        )


def test_register_rename_delete_append_versions_one_two_three():
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
    assert {(event.aggregate_type, event.schema_version) for event in events} == {
        ("Customer", 1)
    }
    assert not Customer.objects.filter(id=customer.id).exists()


def test_a_change_that_changes_nothing_records_nothing():
    customer = register()

    customer_update(customer=customer, name="Ada", address="London")

    assert len(stored_events(customer.id)) == 1
    assert Customer.objects.get(id=customer.id).version == 1


def test_each_event_gets_one_outbox_row_in_the_same_transaction(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as relay_wake_ups, transaction.atomic():
        customer = register()
        customer_update(customer=customer, email="ada@lovelace.org", address="Kent")
        # Before the commit, inside the command's transaction: the events and
        # their outbox rows are already there, side by side.
        assert OutboxMessage.objects.count() == len(stored_events(customer.id))

    events = stored_events(customer.id)
    rows = list(OutboxMessage.objects.order_by("aggregate_version"))
    assert [row.event_id for row in rows] == [event.event_id for event in events]
    assert len(relay_wake_ups) == 2  # the relay is woken after each commit
    for event, row in zip(events, rows, strict=True):
        envelope = from_json(row.body)  # validates against the schema registry
        assert str(envelope.event_id) == str(event.event_id)
        assert envelope.event_type == row.event_type == event.event_type
        assert envelope.aggregate_version == row.aggregate_version
        assert envelope.aggregate_version == event.aggregate_version
        assert envelope.payload == event.payload
        assert envelope.producer == "customer"
        assert row.published_at is None
    assert [row.event_type for row in rows] == [
        "CustomerRegistered",
        "CustomerEmailChanged",
        "CustomerAddressChanged",
    ]


def test_a_rolled_back_command_leaves_no_event_no_outbox_row_no_state():
    with pytest.raises(Refused), transaction.atomic():
        register()
        raise Refused

    assert not StoredEvent.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert not Customer.objects.exists()


def test_a_failing_outbox_write_takes_the_event_and_the_state_with_it():
    customer = register()

    refuse_outbox_writes()
    with pytest.raises(DatabaseError, match="the outbox write failed"):
        customer_update(customer=customer, name="Countess Lovelace")

    assert [event.aggregate_version for event in stored_events(customer.id)] == [1]
    assert OutboxMessage.objects.count() == 1
    row = Customer.objects.get(id=customer.id)
    assert (row.name, row.version) == ("Ada", 1)


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


def test_the_cached_row_is_the_fold_of_the_events(event_sourcing):
    customer = register()
    customer = customer_update(customer=customer, name="Countess Lovelace")
    customer = customer_update(
        customer=customer, email="ada@lovelace.org", address="Ockham Park"
    )
    customer = customer_update(customer=customer, name="Augusta Ada King")

    row = Customer.objects.get(id=customer.id)
    folded = CustomerAggregate.fold(
        customer.id, event_store_load(aggregate_id=customer.id)
    )
    assert folded == event_sourcing.customer_repository.get(customer.id)
    assert (row.id, row.version, row.name, row.email, row.address) == (
        folded.id,
        folded.version,
        folded.name,
        folded.email,
        folded.address,
    )
    assert row.version == 5
    assert folded.deleted is False


def test_the_repository_loads_from_the_events_not_from_the_cached_row(
    event_sourcing,
):
    customer = register()
    # A row changed behind the event store's back (what the admin no longer
    # allows) does not change what the aggregate is.
    Customer.objects.filter(id=customer.id).update(name="Tampered")

    aggregate = event_sourcing.customer_repository.get(customer.id)

    assert aggregate.name == "Ada"


def test_a_stale_expected_version_is_refused_and_changes_nothing():
    customer = register()
    customer_update(customer=customer, name="Countess Lovelace")

    with pytest.raises(ConcurrencyConflict) as refused:
        customer_update(customer=customer, name="Stale", expected_version=1)

    assert "at version 2, not 1" in refused.value.message
    assert len(stored_events(customer.id)) == 2
    assert Customer.objects.get(id=customer.id).name == "Countess Lovelace"

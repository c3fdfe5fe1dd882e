"""The event store itself: append with optimistic concurrency, and append only.

The append-only rule is the database's, not the code's: a trigger refuses
UPDATE and DELETE on ``event_store`` whoever sends them, raw SQL included.
"""

import contextlib
import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.transaction import TransactionManagementError

from shared_events.events import from_json
from shared_events.models import OutboxMessage, StoredEvent
from shared_events.testing.customer_events import registered, renamed
from shared_events.write_side.errors import ConcurrencyConflict
from shared_events.write_side.event_store import event_store_append, event_store_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored() -> StoredEvent:
    customer_id = uuid.uuid4()
    (row,) = event_store_append(envelopes=[registered(customer_id)], expected_version=0)
    return row


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE event_store SET payload = '{}'::jsonb WHERE id = %s",
        "UPDATE event_store SET aggregate_version = 99 WHERE id = %s",
        "DELETE FROM event_store WHERE id = %s",
    ],
    ids=["update payload", "update version", "delete"],
)
def test_the_database_refuses_to_change_or_delete_a_stored_event(stored, statement):
    with (
        pytest.raises(DatabaseError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [stored.id])

    assert "event_store is append-only" in str(refused.value)
    stored_now = StoredEvent.objects.get(id=stored.id)
    assert (stored_now.payload, stored_now.aggregate_version) == (stored.payload, 1)


def test_the_orm_is_refused_too(stored):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StoredEvent.objects.filter(id=stored.id).delete()

    assert StoredEvent.objects.filter(id=stored.id).exists()


def test_appending_at_a_taken_version_is_a_concurrency_conflict(stored):
    rival = registered(stored.aggregate_id)

    with pytest.raises(ConcurrencyConflict) as refused, transaction.atomic():
        event_store_append(envelopes=[rival], expected_version=0)

    assert "version 1 already exists" in refused.value.message
    assert StoredEvent.objects.filter(aggregate_id=stored.aggregate_id).count() == 1


def test_a_conflict_leaves_the_transaction_marked_for_rollback(stored):
    # The append opens no savepoint: the refused insert aborts the caller's
    # transaction, and the append says so before raising. A caller that
    # swallows the conflict can neither query on nor commit what it wrote.
    other = uuid.uuid4()

    with pytest.raises(TransactionManagementError), transaction.atomic():
        event_store_append(envelopes=[registered(other)], expected_version=0)
        with contextlib.suppress(ConcurrencyConflict):
            event_store_append(
                envelopes=[registered(stored.aggregate_id)], expected_version=0
            )
        assert transaction.get_rollback()
        StoredEvent.objects.count()

    assert not StoredEvent.objects.filter(aggregate_id=other).exists()


def test_a_swallowed_conflict_still_ends_in_a_rollback(stored):
    other = uuid.uuid4()

    with transaction.atomic():
        event_store_append(envelopes=[registered(other)], expected_version=0)
        with contextlib.suppress(ConcurrencyConflict):
            event_store_append(
                envelopes=[registered(stored.aggregate_id)], expected_version=0
            )

    assert not StoredEvent.objects.filter(aggregate_id=other).exists()
    assert StoredEvent.objects.filter(aggregate_id=stored.aggregate_id).count() == 1


def test_appending_after_the_wrong_expected_version_is_refused(stored):
    next_event = renamed(stored.aggregate_id, version=2)

    with pytest.raises(ConcurrencyConflict):
        event_store_append(envelopes=[next_event], expected_version=5)

    assert StoredEvent.objects.filter(aggregate_id=stored.aggregate_id).count() == 1


def test_load_up_to_a_version_stops_there(stored):
    event_store_append(
        envelopes=[renamed(stored.aggregate_id, version=2)], expected_version=1
    )

    up_to_one = event_store_load(aggregate_id=stored.aggregate_id, up_to_version=1)
    everything = event_store_load(aggregate_id=stored.aggregate_id)

    assert [event.aggregate_version for event in up_to_one] == [1]
    assert [event.payload["name"] for event in everything] == ["Ada", "Ada Lovelace"]


def test_with_outbox_the_events_and_their_outbox_rows_are_one_statement(stored):
    renames = [
        renamed(stored.aggregate_id, version=2),
        renamed(stored.aggregate_id, version=3, name="Countess"),
    ]

    rows = event_store_append(envelopes=renames, expected_version=1, outbox=True)

    assert [row.aggregate_version for row in rows] == [2, 3]
    queued = list(OutboxMessage.objects.order_by("id"))
    assert [message.event_id for message in queued] == [row.event_id for row in rows]
    assert [from_json(message.body) for message in queued] == renames

    with pytest.raises(ConcurrencyConflict), transaction.atomic():
        event_store_append(envelopes=renames[1:], expected_version=2, outbox=True)

    assert OutboxMessage.objects.count() == 2

"""The event store as a service's write model (approaches 4 and 5): one contract.

Written once, as pyeventsourcing writes its recorder tests, and subclassed
by each event-sourced service (``customers/tests/test_event_store.py``,
``orders/tests/test_event_store.py``), which says how to run its commands
and how to read its cached state row. What a learner should see, whatever
the aggregate:

- each command appends numbered events, oldest first;
- each event gets its outbox row in the same transaction: both commit, or
  neither does, and the state row goes with them;
- the state row is only a cache: the fold of the events, which is what the
  repository loads.

A subclass runs under ``pytest.mark.django_db`` with the service's
``event_sourcing`` fixture (the wiring its composition root builds for
event_sourcing, the relay never woken).
"""

from __future__ import annotations

import abc
from typing import Any
from uuid import UUID

import pytest
from django.db import DatabaseError, connection, models, transaction

from shared_events.events import from_json
from shared_events.models import OutboxMessage, StoredEvent
from shared_events.write_side import (
    Aggregate,
    ConcurrencyConflict,
    Repository,
    event_store_load,
)


class Refused(Exception):
    """Raised inside a transaction to roll it back."""


def stored_events(aggregate_id: UUID) -> list[StoredEvent]:
    return list(
        StoredEvent.objects.filter(aggregate_id=aggregate_id).order_by(
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


class EventStoreContract(abc.ABC):
    """What every event-sourced write model does; a subclass per service."""

    #: The service's name, as its envelopes give it (``producer``).
    producer: str
    aggregate_class: type[Aggregate]
    #: The cached current-state table.
    state_model: type[models.Model]
    #: The event types ``create`` and then ``change`` record.
    created_event: str
    changed_event: str

    @pytest.fixture(autouse=True)
    def _event_sourced(self, event_sourcing) -> None:
        self.wiring = event_sourcing

    # What each service says ---------------------------------------------------

    @abc.abstractmethod
    def create(self) -> models.Model:
        """Run the command that creates an aggregate (one event); its state row."""

    @abc.abstractmethod
    def change(
        self, row: models.Model, *, expected_version: int | None = None
    ) -> models.Model:
        """Run a command that records exactly one more event; the row after it."""

    @abc.abstractmethod
    def repository(self) -> Repository:
        """The repository the wiring holds for this aggregate."""

    @abc.abstractmethod
    def cached_state(self, aggregate_id: UUID) -> tuple[Any, ...]:
        """The state row's fields, comparable with ``folded_state``."""

    @abc.abstractmethod
    def folded_state(self, aggregate: Aggregate) -> tuple[Any, ...]:
        """The same fields, from the aggregate."""

    @abc.abstractmethod
    def tamper(self, aggregate_id: UUID) -> None:
        """Change the state row behind the event store's back."""

    # The contract -------------------------------------------------------------

    def test_commands_append_versions_one_and_two_in_order(self):
        row = self.change(self.create())

        events = stored_events(row.pk)
        assert [(event.aggregate_version, event.event_type) for event in events] == [
            (1, self.created_event),
            (2, self.changed_event),
        ]
        assert {(event.aggregate_type, event.schema_version) for event in events} == {
            (self.aggregate_class.aggregate_type, 1)
        }

    def test_each_event_gets_one_outbox_row_in_the_same_transaction(
        self, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks() as relay_wake_ups,
            transaction.atomic(),
        ):
            row = self.change(self.create())
            # Before the commit, inside the command's transaction: the events
            # and their outbox rows are already there, side by side.
            assert OutboxMessage.objects.count() == len(stored_events(row.pk))

        events = stored_events(row.pk)
        rows = list(OutboxMessage.objects.order_by("aggregate_version"))
        assert [row.event_id for row in rows] == [event.event_id for event in events]
        assert len(relay_wake_ups) == 2  # the relay is woken after each commit
        for event, outbox in zip(events, rows, strict=True):
            envelope = from_json(outbox.body)  # validates against the registry
            assert str(envelope.event_id) == str(event.event_id)
            assert envelope.event_type == outbox.event_type == event.event_type
            assert envelope.aggregate_version == outbox.aggregate_version
            assert envelope.aggregate_version == event.aggregate_version
            assert envelope.payload == event.payload
            assert envelope.producer == self.producer
            assert outbox.published_at is None

    def test_a_rolled_back_command_leaves_no_event_no_outbox_row_no_state(self):
        with pytest.raises(Refused), transaction.atomic():
            self.create()
            raise Refused

        assert not StoredEvent.objects.exists()
        assert not OutboxMessage.objects.exists()
        assert not self.state_model.objects.exists()

    def test_a_failing_outbox_write_takes_the_event_and_the_state_with_it(self):
        row = self.create()
        before = self.cached_state(row.pk)

        refuse_outbox_writes()
        with pytest.raises(DatabaseError, match="the outbox write failed"):
            self.change(row)

        assert [event.aggregate_version for event in stored_events(row.pk)] == [1]
        assert OutboxMessage.objects.count() == 1
        assert self.cached_state(row.pk) == before

    def test_the_cached_row_is_the_fold_of_the_events(self):
        row = self.change(self.create())

        folded = self.aggregate_class.fold(
            row.pk, event_store_load(aggregate_id=row.pk)
        )
        assert folded == self.repository().get(row.pk)
        assert self.cached_state(row.pk) == self.folded_state(folded)
        assert folded.version == 2

    def test_the_repository_loads_from_the_events_not_from_the_cached_row(self):
        row = self.create()
        from_events = self.folded_state(self.repository().get(row.pk))

        self.tamper(row.pk)

        assert self.cached_state(row.pk) != from_events
        assert self.folded_state(self.repository().get(row.pk)) == from_events

    def test_a_stale_expected_version_is_refused_and_changes_nothing(self):
        row = self.create()
        self.change(row)
        before = self.cached_state(row.pk)

        with pytest.raises(ConcurrencyConflict) as refused:
            self.change(row, expected_version=1)

        assert "at version 2, not 1" in refused.value.message
        assert len(stored_events(row.pk)) == 2
        assert self.cached_state(row.pk) == before

"""The event-sourced repository whose events are in DynamoDB (``EVENT_STORE=dynamodb``).

Two stores take part in a save, and no transaction spans both. What a
learner should notice is the order, inside the caller's PostgreSQL
transaction:

1. the state row is written first (``StateTable.write``): it validates,
   reserves what its unique indexes guard (a customer's email), and refuses
   a row no longer at the expected version;
2. then the commit, one conditional ``PutItem``: the truth. Refused, it is
   ``ConcurrencyConflict`` (409); throttled or unreachable,
   ``EventStoreUnavailable`` (503). Either way the transaction is marked for
   rollback, so the state row never commits without its events;
3. the PostgreSQL transaction commits when the request ends.

Between 2 and 3 is a window: a process that dies there has committed its
events, and its state row is rolled back, behind them. Nothing is lost, as
the events are the truth and the table's stream publishes them, but the
cache is stale. So ``get`` folds from DynamoDB, never from the row, and a
row that is behind (missing, or at a lower version than the events) is
healed by writing the folded state over it: by the next ``save``, and,
without waiting for one, by ``publish_committed`` as soon as the commit
comes by on the table's stream (each service's ``state_keepers``).

There is no outbox row and no relay: the table's stream is the outbox
(``shared_events.outbox.stream_relay``).
"""

from __future__ import annotations

import logging
from typing import TypeVar
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from shared_events.write_side.aggregates import Aggregate, RecordedEvent
from shared_events.write_side.dynamodb.commits import Commit, commit_of
from shared_events.write_side.dynamodb.table import EventTable
from shared_events.write_side.errors import ConcurrencyConflict, EventStoreUnavailable
from shared_events.write_side.repositories import (
    Fault,
    Repository,
    Saved,
    StateTable,
    die_if_crash_injected,
    envelopes_for,
)
from shared_events.write_side.transactions import refuse_transaction

logger = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)


class DynamoDBEventSourcedRepository(Repository[A]):
    """Approaches 4 and 5 on the paper's write store: events in DynamoDB.

    ``database`` is the write side's PostgreSQL database, where the state
    rows are (the one the caller's transaction is on).
    """

    def __init__(
        self,
        *,
        aggregate_class: type[A],
        table: StateTable[A],
        events: EventTable,
        producer: str,
        fault: str = "",
        database: str = DEFAULT_DB_ALIAS,
    ) -> None:
        self.aggregate_class = aggregate_class
        self.table = table
        self.events = events
        self.producer = producer
        self.fault = Fault.parse(fault)
        self.database = database

    # Reads: always the events ---------------------------------------------------

    def commits(self, aggregate_id: UUID) -> list[Commit]:
        """The aggregate's commits, oldest first (what the history shows)."""
        return self.events.commits(str(aggregate_id))

    def get(self, aggregate_id: UUID) -> A | None:
        return self._fold(aggregate_id, up_to_version=None)

    def get_as_of(self, aggregate_id: UUID, version: int) -> A | None:
        return self._fold(aggregate_id, up_to_version=version)

    def _fold(self, aggregate_id: UUID, *, up_to_version: int | None) -> A | None:
        commits = self.events.commits(str(aggregate_id), up_to_version=up_to_version)
        recorded = [
            RecordedEvent(
                event_type=envelope.event_type,
                payload=envelope.payload,
                aggregate_version=envelope.aggregate_version,
                schema_version=envelope.schema_version,
            )
            for commit in commits
            for envelope in commit.envelopes()
            if up_to_version is None or envelope.aggregate_version <= up_to_version
        ]
        return self.aggregate_class.fold(aggregate_id, recorded)

    # The write: state row, then the commit ----------------------------------------

    def save(self, aggregate: A) -> Saved:
        expected_version = aggregate.original_version
        events = aggregate.collect_pending()
        envelopes = envelopes_for(
            aggregate=aggregate, events=events, producer=self.producer
        )
        # Encoded (and validated) before anything is written.
        commit = (
            commit_of(envelopes, committed_at=timezone.now()) if envelopes else None
        )
        if expected_version:
            self.heal(aggregate.id, loaded_version=expected_version)
        row = self.table.write(aggregate, expected_version=expected_version)
        if commit is not None:
            self._append(commit)
        if self.fault.kind:
            transaction.on_commit(lambda: die_if_crash_injected(self.fault, envelopes))
        return Saved(envelopes=envelopes, row=row)

    def heal(self, aggregate_id: UUID, *, loaded_version: int) -> bool:
        """Bring a state row that is behind the events up to them; True if it was.

        ``loaded_version`` is the version the writer folded from the events.
        A row below it was left behind by a process that died between its
        commit and its PostgreSQL commit: the folded state is written over
        it, in the caller's transaction.
        """
        cached = self.table.load(aggregate_id)
        cached_version = cached.version if cached is not None else 0
        if cached_version >= loaded_version:
            return False
        truth = self.get(aggregate_id)
        if truth is None or truth.version <= cached_version:
            return False
        if cached is None and not self.table.keeps_row(truth):
            return False  # no row is its state (deleted, or never accepted)
        self.table.write(truth, expected_version=cached_version)
        logger.warning(
            "%s %s: the state row was at version %d, its events at %d (a commit "
            "whose PostgreSQL transaction never committed); healed the row",
            self.aggregate_class.aggregate_type,
            aggregate_id,
            cached_version,
            truth.version,
        )
        return True

    def _append(self, commit: Commit) -> None:
        try:
            self.events.append(commit)
        except (ConcurrencyConflict, EventStoreUnavailable):
            # The state row is already written in this transaction: it must
            # not commit without its events, even if the caller catches this.
            refuse_transaction(self.database)
            raise

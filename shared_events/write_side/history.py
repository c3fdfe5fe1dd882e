"""An aggregate's history: the events it recorded, and its state as of a version.

Only an event store keeps a history. Under the state-table approaches each
change overwrites the row and the recorded events are dropped, so there is
nothing to show: the composition root wires ``NoHistory`` there, which says
so (HTTP 404 with the reason) instead of pretending the aggregate has no
events. Which one a service gets is ``bootstrap.py``'s choice; the selectors
and APIs only ask the port.

Notice what ``state_as_of`` does: it folds the stored events up to a version,
exactly as loading the current aggregate does, only stopping earlier. Any
past state is one fold away; nothing stores it.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Generic, TypeVar
from uuid import UUID

from django.db.models import Max, QuerySet
from django.http import Http404

from shared_events.models import StoredEvent
from shared_events.write_side.aggregates import Aggregate
from shared_events.write_side.errors import HistoryNotKept, VersionNotRecorded
from shared_events.write_side.event_store import event_store_history
from shared_events.write_side.repositories import EventSourcedRepository

A = TypeVar("A", bound=Aggregate)


class AggregateHistory(abc.ABC, Generic[A]):
    """Where a service reads the history of one aggregate type."""

    @abc.abstractmethod
    def events(self, aggregate_id: UUID) -> Sequence[StoredEvent]:
        """The aggregate's stored events, oldest first; Http404 if it has none.

        A QuerySet from the PostgreSQL event store, a list of unsaved rows
        from another store (``dynamodb.DynamoDBEventStoreHistory``).
        """

    @abc.abstractmethod
    def state_as_of(self, aggregate_id: UUID, version: int) -> A:
        """The aggregate folded up to and including ``version``.

        Http404 for an unknown aggregate, ``VersionNotRecorded`` (404 with the
        reason) for a version it has not reached.
        """


class EventStoreHistory(AggregateHistory[A]):
    """Approaches 4 and 5: the history is the event store itself."""

    def __init__(self, *, repository: EventSourcedRepository[A]) -> None:
        self.repository = repository
        self.aggregate_type = repository.aggregate_class.aggregate_type

    def _stored(self, aggregate_id: UUID) -> QuerySet[StoredEvent]:
        # Each service's store holds its own aggregate types only, but a
        # UUID from the other service must not read as this one's.
        return event_store_history(aggregate_id=aggregate_id).filter(
            aggregate_type=self.aggregate_type
        )

    def events(self, aggregate_id: UUID) -> QuerySet[StoredEvent]:
        events = self._stored(aggregate_id)
        if not events.exists():
            raise Http404(f"{self.aggregate_type} {aggregate_id} recorded no events")
        return events

    def state_as_of(self, aggregate_id: UUID, version: int) -> A:
        last = self._stored(aggregate_id).aggregate(last=Max("aggregate_version"))[
            "last"
        ]
        if last is None:
            raise Http404(f"{self.aggregate_type} {aggregate_id} recorded no events")
        if version > last:
            raise VersionNotRecorded(
                f"{self.aggregate_type} {aggregate_id} has no version {version}: "
                f"its last recorded version is {last}"
            )
        aggregate = self.repository.get_as_of(aggregate_id, version)
        assert aggregate is not None  # it has events up to ``last`` >= version
        return aggregate


class NoHistory(AggregateHistory[A]):
    """Approaches 1 to 3: current state only; every read says why it has none."""

    def __init__(self, *, reason: str) -> None:
        self.reason = reason

    def events(self, aggregate_id: UUID) -> Sequence[StoredEvent]:
        raise HistoryNotKept(self.reason)

    def state_as_of(self, aggregate_id: UUID, version: int) -> A:
        raise HistoryNotKept(self.reason)


def state_only_reason(
    *, approach_label: str, aggregate: str, keeping: list[str]
) -> str:
    """Why an approach has no history of ``aggregate`` (e.g. "customer")."""
    return (
        f"approach {approach_label} keeps no {aggregate} history: each change "
        f"overwrites the {aggregate}'s current state and its events are not "
        f"stored. The event-sourced approaches ({', '.join(keeping)}) keep every "
        "event."
    )

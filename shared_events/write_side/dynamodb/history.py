"""An aggregate's history read from its DynamoDB commits.

The history API asks the same port (``AggregateHistory``) whichever store
keeps the events, and gets the same data: one ``StoredEvent`` per event,
built (never saved) from the commit's envelopes, with the commit's time as
``recorded_at``. A learner comparing the two stores sees the same answer.
"""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from django.http import Http404

from shared_events.models import StoredEvent
from shared_events.write_side.aggregates import Aggregate
from shared_events.write_side.dynamodb.repository import DynamoDBEventSourcedRepository
from shared_events.write_side.errors import VersionNotRecorded
from shared_events.write_side.event_store import stored_event_of
from shared_events.write_side.history import AggregateHistory

A = TypeVar("A", bound=Aggregate)


class DynamoDBEventStoreHistory(AggregateHistory[A]):
    """Approaches 4 and 5 with ``EVENT_STORE=dynamodb``: the table is the history."""

    def __init__(self, *, repository: DynamoDBEventSourcedRepository[A]) -> None:
        self.repository = repository
        self.aggregate_type = repository.aggregate_class.aggregate_type

    def events(self, aggregate_id: UUID) -> list[StoredEvent]:
        events = []
        for commit in self.repository.commits(aggregate_id):
            # Each service's table holds its own aggregate types only, but a
            # UUID from the other service must not read as this one's.
            if commit.aggregate_type != self.aggregate_type:
                continue
            for envelope in commit.envelopes():
                stored = stored_event_of(envelope)
                stored.recorded_at = commit.committed_at
                events.append(stored)
        if not events:
            raise Http404(f"{self.aggregate_type} {aggregate_id} recorded no events")
        return events

    def state_as_of(self, aggregate_id: UUID, version: int) -> A:
        last = self.events(aggregate_id)[-1].aggregate_version
        if version > last:
            raise VersionNotRecorded(
                f"{self.aggregate_type} {aggregate_id} has no version {version}: "
                f"its last recorded version is {last}"
            )
        aggregate = self.repository.get_as_of(aggregate_id, version)
        assert aggregate is not None  # it has events up to ``last`` >= version
        return aggregate

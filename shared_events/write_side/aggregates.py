"""Aggregates that record past-tense events from imperative commands.

A command method checks the rules, then records an event; recording applies
the event to the aggregate's own state, so current state is always the fold
of its events. What happens to the recorded events is the repository's
business, chosen by the approach: dropped (approaches 1 and 2), published
after commit (3), or appended to an event store with an outbox row (4, 5).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self
from uuid import UUID


@dataclass(frozen=True)
class RecordedEvent:
    """A domain event before it is wrapped in an envelope."""

    event_type: str
    payload: dict[str, Any]
    aggregate_version: int
    schema_version: int = 1


@dataclass
class Aggregate:
    """Base of the event-recording aggregates (Customer, Order)."""

    aggregate_type: ClassVar[str] = ""

    id: UUID
    version: int = 0
    pending_events: list[RecordedEvent] = field(default_factory=list, repr=False)

    def record(self, event_type: str, payload: dict[str, Any]) -> RecordedEvent:
        event = RecordedEvent(
            event_type=event_type, payload=payload, aggregate_version=self.version + 1
        )
        self.apply(event)
        self.pending_events.append(event)
        return event

    def apply(self, event: RecordedEvent) -> None:
        handler = getattr(self, f"when_{event.event_type}", None)
        if handler is None:
            raise ValueError(
                f"{type(self).__name__} cannot apply a {event.event_type} event"
            )
        handler(event.payload)
        self.version = event.aggregate_version

    @classmethod
    def fold(cls, aggregate_id: UUID, events: Iterable[RecordedEvent]) -> Self | None:
        """The aggregate as its events leave it; None when there are none."""
        aggregate = None
        for event in events:
            if aggregate is None:
                aggregate = cls(id=aggregate_id)
            aggregate.apply(event)
        return aggregate

    def collect_pending(self) -> list[RecordedEvent]:
        events, self.pending_events = self.pending_events, []
        return events

    @property
    def original_version(self) -> int:
        """The version the aggregate had when loaded (before pending events)."""
        return self.version - len(self.pending_events)

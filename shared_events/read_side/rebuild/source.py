"""Where a rebuild reads events: the event stores, and how far each is replayed.

The service's own event store and, read-only, the peer's. Within one store
events come in id order, which keeps each aggregate's versions in order; a
``ReplaySource`` remembers how far it got, and which ids below that are holes
that may still be filled (see ``ReplaySource``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import connections

from shared_events.events import EventEnvelope, is_traceparent, new_trace_context

SELECT_EVENTS = (
    "SELECT id, event_id, aggregate_type, aggregate_id, aggregate_version, "
    "event_type, schema_version, occurred_at, payload, metadata FROM event_store "
)


@dataclass(frozen=True)
class StoredRow:
    source: ReplaySource
    id: int
    event_id: UUID
    aggregate_type: str
    aggregate_id: UUID
    aggregate_version: int
    event_type: str
    schema_version: int
    occurred_at: datetime
    payload: Any
    metadata: Any

    @property
    def order_key(self) -> tuple:
        return (self.occurred_at, self.source.rank, self.id)

    def envelope(self) -> EventEnvelope:
        """The event as the producer published it (the outbox wrote the same)."""
        metadata = _json(self.metadata) or {}
        correlation_id = metadata.get("correlation_id")
        causation_id = metadata.get("causation_id")
        fields = {
            "event_id": _uuid(self.event_id),
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "aggregate_type": self.aggregate_type,
            "aggregate_id": str(self.aggregate_id),
            "aggregate_version": self.aggregate_version,
            "occurred_at": self.occurred_at,
            "producer": metadata.get("producer") or self.source.service,
            "correlation_id": (
                _uuid(correlation_id) if correlation_id else _uuid(self.event_id)
            ),
            "causation_id": _uuid(causation_id) if causation_id else None,
            "payload": _json(self.payload),
        }
        trace_context = metadata.get("trace_context")
        if not (
            isinstance(trace_context, Mapping)
            and is_traceparent(trace_context.get("traceparent"))
        ):
            # An old row without a valid traceparent: the replay is a new trace.
            trace_context = new_trace_context()
        return EventEnvelope(trace_context=trace_context, **fields)


def _json(value: Any) -> Any:
    # Django reads jsonb as text; plain psycopg2 as Python values.
    return json.loads(value) if isinstance(value, str) else value


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


@dataclass(eq=False)
class ReplaySource:
    """One event store and how far the rebuild has replayed it.

    ``position``: every id up to it has been replayed, or is a hole for good.
    Above it, ``done`` holds ids replayed and ``unresolved`` ids read but not
    applied yet (in flight, or held back for an earlier version).

    A hole is an id below one already seen that was never seen itself: a
    transaction took it and has not committed yet, or rolled back. Which of
    the two? Once every transaction that was writing to the database when
    the hole was noticed has ended, it stays a hole for good (``gap`` = the
    highest id it covers, and those transactions).
    """

    service: str
    alias: str
    rank: int
    position: int = 0
    max_seen: int = 0
    done: set[int] = field(default_factory=set)
    unresolved: set[int] = field(default_factory=set)
    writers_at_read: frozenset[str] = frozenset()
    gap: tuple[int, frozenset[str]] | None = None

    def _fetch(self, statement: str, params: Sequence[Any]) -> list[StoredRow]:
        with connections[self.alias].cursor() as cursor:
            cursor.execute(SELECT_EVENTS + statement, params)
            rows = [StoredRow(self, *row) for row in cursor.fetchall()]
        if rows:
            # Only these may still commit an id below what was just read. (A
            # read of nothing reveals no new hole: the last set still holds.)
            self.writers_at_read = self._writers()
        return rows

    def _writers(self) -> frozenset[str]:
        """The transactions writing to this database now (those with an xid)."""
        with connections[self.alias].cursor() as cursor:
            cursor.execute(
                "SELECT backend_xid::text FROM pg_stat_activity "
                "WHERE datname = current_database() AND backend_xid IS NOT NULL"
            )
            return frozenset(row[0] for row in cursor.fetchall())

    def stream(self, batch_size: int) -> Iterator[StoredRow]:
        """Every event after ``position`` not replayed yet, in id order."""
        after = self.position
        while True:
            rows = self._fetch(
                "WHERE id > %s ORDER BY id LIMIT %s", [after, batch_size]
            )
            for row in rows:
                self.max_seen = max(self.max_seen, row.id)
                if row.id not in self.done:
                    self.unresolved.add(row.id)
                    yield row
            if len(rows) < batch_size:
                return
            after = rows[-1].id

    def rows_with_event_ids(self, event_ids: Sequence[UUID]) -> list[StoredRow]:
        return self._fetch(
            "WHERE event_id = ANY(%s::uuid[]) ORDER BY id",
            [[str(e) for e in event_ids]],
        )

    def mark_done(self, row_id: int) -> None:
        self.unresolved.discard(row_id)
        if row_id > self.position:
            self.done.add(row_id)

    def advance(self) -> None:
        """Move ``position`` over what is replayed and over holes for good."""
        while True:
            candidate = self.position + 1
            if candidate in self.done:
                self.done.discard(candidate)
                self.position, self.gap = candidate, None
                continue
            if candidate > self.max_seen or candidate in self.unresolved:
                return
            if self.gap is None:
                self.gap = (self.max_seen, self.writers_at_read)
            covers, writers = self.gap
            if writers and writers & self._writers():
                return  # the hole may still be filled
            known = [i for i in (*self.done, *self.unresolved) if i > self.position]
            self.position = min(min(known, default=covers + 1) - 1, covers)
            self.gap = None

"""The event store: append with optimistic concurrency, load, fold.

Appending checks the expected version and relies on the unique index on
(aggregate_id, aggregate_version): two writers that loaded the same version
race, exactly one insert wins, the other gets ConcurrencyConflict (HTTP 409)
and its whole transaction, state and outbox included, rolls back.

Notice what the append does *not* do: it opens no savepoint of its own. A
refused insert leaves the caller's transaction unusable, so the append marks
it for rollback before raising; nothing the caller does afterwards can commit
half a command. One statement per append (all of its events, and with
``outbox=True`` their outbox rows too) keeps the write path at the round
trips the work needs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from uuid import UUID

from django.db import IntegrityError, connections, router

from shared_events.events import EventEnvelope
from shared_events.models import StoredEvent
from shared_events.write_side.aggregates import RecordedEvent
from shared_events.write_side.errors import ConcurrencyConflict
from shared_events.write_side.outbox_queue import outbox_insert
from shared_events.write_side.transactions import refuse_transaction

_APPEND = (
    "INSERT INTO event_store (event_id, aggregate_type, aggregate_id,"
    " aggregate_version, event_type, schema_version, occurred_at, payload,"
    " metadata) VALUES {rows} RETURNING id, recorded_at"
)
_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s, %s)"


def event_store_append(
    *, envelopes: Sequence[EventEnvelope], expected_version: int, outbox: bool = False
) -> list[StoredEvent]:
    """Append one aggregate's new events, refusing a stale expected version.

    ``outbox=True`` also queues the events for the relay (``outbox_insert``)
    in the same statement, a data-modifying ``WITH``: the event rows and
    their outbox rows are written, or refused, together, in one round trip.
    """
    if not envelopes:
        return []
    first = envelopes[0]
    if first.aggregate_version != expected_version + 1:
        raise ConcurrencyConflict(
            f"{first.aggregate_type} {first.aggregate_id} expected at version "
            f"{expected_version}, events start at {first.aggregate_version}"
        )
    rows = [stored_event_of(envelope) for envelope in envelopes]
    statement = _APPEND.format(rows=", ".join([_ROW] * len(rows)))
    parameters = [value for row in rows for value in _values(row)]
    if outbox:
        queue, queue_parameters = outbox_insert(envelopes)
        statement = f"WITH queued AS ({queue}) {statement}"
        parameters = queue_parameters + parameters
    database = router.db_for_write(StoredEvent)
    try:
        with connections[database].cursor() as cursor:
            cursor.execute(statement, parameters)
            returned = cursor.fetchall()
    except IntegrityError:
        refuse_transaction(database)
        raise ConcurrencyConflict(
            f"{first.aggregate_type} {first.aggregate_id} was changed by someone "
            f"else: version {first.aggregate_version} already exists; reload and "
            "try again"
        ) from None
    for row, (row_id, recorded_at) in zip(rows, returned, strict=True):
        row.id, row.recorded_at = row_id, recorded_at
        row._state.adding, row._state.db = False, database
    return rows


def stored_event_of(envelope: EventEnvelope) -> StoredEvent:
    """The event store's row for ``envelope`` (unsaved): what the history shows."""
    return StoredEvent(
        event_id=envelope.event_id,
        aggregate_type=envelope.aggregate_type,
        aggregate_id=UUID(str(envelope.aggregate_id)),
        aggregate_version=envelope.aggregate_version,
        event_type=envelope.event_type,
        schema_version=envelope.schema_version,
        occurred_at=envelope.occurred_at,
        payload=envelope.payload,
        metadata={
            "producer": envelope.producer,
            "correlation_id": str(envelope.correlation_id),
            "causation_id": (
                str(envelope.causation_id) if envelope.causation_id else None
            ),
            "trace_context": envelope.trace_context,
        },
    )


def _values(row: StoredEvent) -> tuple:
    return (
        row.event_id,
        row.aggregate_type,
        row.aggregate_id,
        row.aggregate_version,
        row.event_type,
        row.schema_version,
        row.occurred_at,
        json.dumps(row.payload),
        json.dumps(row.metadata),
    )


def event_store_load(
    *, aggregate_id: UUID, up_to_version: int | None = None
) -> list[RecordedEvent]:
    events = StoredEvent.objects.filter(aggregate_id=aggregate_id)
    if up_to_version is not None:
        events = events.filter(aggregate_version__lte=up_to_version)
    return [
        RecordedEvent(
            event_type=row.event_type,
            payload=row.payload,
            aggregate_version=row.aggregate_version,
            schema_version=row.schema_version,
        )
        for row in events.order_by("aggregate_version")
    ]


def event_store_history(*, aggregate_id: UUID):
    """The stored events of one aggregate, oldest first."""
    return StoredEvent.objects.filter(aggregate_id=aggregate_id).order_by(
        "aggregate_version"
    )

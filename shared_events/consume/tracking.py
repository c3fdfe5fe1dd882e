"""Applying one event exactly once and in order: the consumer's transactional core.

For each event, in ONE database transaction: lock the aggregate's cursor
(the version applied last), skip a duplicate (at or below the cursor), hold
an event that is ahead (beyond the next version), run the handlers, record
the event in ``ProcessedEvent`` and advance the cursor. Its commit is the
moment the effect happens; whoever delivered the event (the SQS consumer,
a test, a replay) learns the ``Outcome``. A redelivered event changes
nothing, so effects happen exactly once although delivery is at least once.

On a read database (approach 5) the transaction also holds its guard
(``projection_guard``): the projection's permit to write read models, and
the read-model swap lock, shared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from enum import StrEnum
from uuid import UUID

from django.db import IntegrityError, connections, transaction

from shared_events.consume.projection_guard import (
    hold_read_model_swap_lock,
    projecting,
)
from shared_events.correlation import caused_by_event
from shared_events.events import EventEnvelope
from shared_events.models import AggregateCursor, ProcessedEvent
from shared_events.telemetry.tracing import processing_event

Handler = Callable[[EventEnvelope], None]


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    HELD = "held"
    RETRY = "retry"
    DEAD_LETTERED = "dead_lettered"


class _Held(Exception):
    """Rolls the transaction back: the event is ahead of the aggregate's cursor."""


def cursor_standing(envelope: EventEnvelope, *, applied_version: int) -> Outcome | None:
    """Where an event stands against its aggregate's cursor.

    DUPLICATE at or below the version applied last, HELD beyond the next
    one, None for the next one: apply it. Shared by ``apply_event`` and the
    rebuild's bulk path (``shared_events.read_side.bulk_projection``).
    """
    if envelope.aggregate_version <= applied_version:
        return Outcome.DUPLICATE
    if envelope.aggregate_version > applied_version + 1:
        return Outcome.HELD
    return None


def apply_event(
    *,
    consumer: str,
    envelope: EventEnvelope,
    handlers: Sequence[Handler],
    database: str = "default",
) -> Outcome:
    """Apply one event exactly once and in order; the transactional core.

    Inside the event's *process* span when tracing is on: a child of the
    span that recorded it, however far away (``shared_events.telemetry``).
    """
    with processing_event(envelope, consumer=consumer) as note_outcome:
        outcome = _apply_event(
            consumer=consumer, envelope=envelope, handlers=handlers, database=database
        )
        note_outcome(outcome.value)
    return outcome


def _apply_event(
    *,
    consumer: str,
    envelope: EventEnvelope,
    handlers: Sequence[Handler],
    database: str,
) -> Outcome:
    aggregate_id = UUID(envelope.aggregate_id)
    processed = ProcessedEvent.objects.using(database)
    side = projecting(database) if database != "default" else nullcontext()
    try:
        with side, transaction.atomic(using=database):
            # A read-model rebuild swaps tables under an exclusive lock; the
            # consumer holds it shared while it applies an event.
            hold_read_model_swap_lock(using=database)
            # A redelivered event is at or below the cursor: the cursor, not a
            # lookup of the event id, tells a duplicate (the processed-event
            # record's unique index is the guard behind it, below).
            cursor_id, applied_version = _lock_cursor(
                database,
                consumer=consumer,
                envelope=envelope,
                aggregate_id=aggregate_id,
            )
            standing = cursor_standing(envelope, applied_version=applied_version)
            if standing is Outcome.DUPLICATE:
                return Outcome.DUPLICATE
            if standing is Outcome.HELD:
                raise _Held(
                    f"{envelope.aggregate_type} {envelope.aggregate_id}: got version "
                    f"{envelope.aggregate_version}, expected {applied_version + 1}"
                )
            # What the handlers record continues this event's story.
            with caused_by_event(envelope):
                for handler in handlers:
                    handler(envelope)
            _record_applied(
                database, consumer=consumer, envelope=envelope, cursor_id=cursor_id
            )
    except _Held:
        return Outcome.HELD
    except IntegrityError:
        # Another consumer process recorded the same event id first.
        if processed.filter(consumer=consumer, event_id=envelope.event_id).exists():
            return Outcome.DUPLICATE
        raise
    return Outcome.APPLIED


def _record_applied(
    database: str, *, consumer: str, envelope: EventEnvelope, cursor_id: int
) -> None:
    """Record the event as processed and advance its aggregate's cursor: one
    statement, one round trip (a duplicate event id breaks the processed
    record's unique constraint, and the whole transaction with it)."""
    processed = ProcessedEvent._meta.db_table
    cursors = AggregateCursor._meta.db_table
    with connections[database].cursor() as cursor:
        cursor.execute(
            f"WITH recorded AS (INSERT INTO {processed} "
            "(consumer, event_id, event_type, aggregate_id, aggregate_version, "
            "occurred_at) VALUES (%s, %s, %s, %s, %s, %s)) "
            f"UPDATE {cursors} SET version = %s, updated_at = now() WHERE id = %s",
            [
                consumer,
                str(envelope.event_id),
                envelope.event_type,
                envelope.aggregate_id,
                envelope.aggregate_version,
                envelope.occurred_at,
                envelope.aggregate_version,
                cursor_id,
            ],
        )


def _lock_cursor(
    database: str, *, consumer: str, envelope: EventEnvelope, aggregate_id: UUID
) -> tuple[int, int]:
    """The aggregate's cursor (id, version applied last), created at 0 if new,
    and locked until the transaction ends: one statement, one round trip."""
    table = AggregateCursor._meta.db_table
    with connections[database].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} "
            "(consumer, aggregate_type, aggregate_id, version, updated_at) "
            "VALUES (%s, %s, %s, 0, now()) "
            "ON CONFLICT (consumer, aggregate_id) "
            f"DO UPDATE SET version = {table}.version "
            "RETURNING id, version",
            [consumer, envelope.aggregate_type, str(aggregate_id)],
        )
        cursor_id, version = cursor.fetchone()
    return cursor_id, version

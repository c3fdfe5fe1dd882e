"""Applying one event exactly once and in order: the consumer's transactional core.

For each event, in ONE database transaction: lock the aggregate's cursor
(the version applied last), skip a duplicate (at or below the cursor), hold
an event that is ahead (beyond the next version), run the handlers, record
the event in ``ProcessedEvent`` and advance the cursor. A consumer that
passes the message an event came in may have it *parked* when it is ahead:
kept in ``HeldEvent`` in the same transaction, under the cursor's lock, so
whoever applies the event before it next finds it there
(``shared_events.consume.held_events``). Its commit is the
moment the effect happens; whoever delivered the event (the SQS consumer,
a test, a replay) learns the ``Outcome``. A redelivered event changes
nothing, so effects happen exactly once although delivery is at least once.

On a read database (approach 5) the transaction also holds its guard
(``projection_guard``): the projection's permit to write read models, and
the read-model swap lock, shared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from django.db import IntegrityError, connections, transaction

from shared_events.consume.projection_guard import (
    hold_read_model_swap_lock,
    projecting,
)
from shared_events.correlation import caused_by_event
from shared_events.events import EventEnvelope
from shared_events.models import AggregateCursor, HeldEvent, ProcessedEvent
from shared_events.telemetry.tracing import processing_event

Handler = Callable[[EventEnvelope], None]


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    HELD = "held"
    RETRY = "retry"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class ParkedMessage:
    """What parking an event keeps of the message it came in: enough to
    dead-letter it exactly as it arrived, should its gap never close."""

    body: str
    message_id: str
    attributes: Mapping[str, dict] = field(default_factory=dict)
    group_id: str = ""


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
    park: ParkedMessage | None = None,
    releasing: int | None = None,
) -> Outcome:
    """Apply one event exactly once and in order; the transactional core.

    ``park``: the message the event came in, parked (and the outcome HELD,
    committed) if the event is ahead. ``releasing``: the ``HeldEvent`` row
    this event was parked as, deleted in the transaction that applies it (or
    finds it a duplicate).

    Inside the event's *process* span when tracing is on: a child of the
    span that recorded it, however far away (``shared_events.telemetry``).
    """
    with processing_event(envelope, consumer=consumer) as note_outcome:
        outcome = _apply_event(
            consumer=consumer,
            envelope=envelope,
            handlers=handlers,
            database=database,
            park=park,
            releasing=releasing,
        )
        note_outcome(outcome.value)
    return outcome


def _apply_event(
    *,
    consumer: str,
    envelope: EventEnvelope,
    handlers: Sequence[Handler],
    database: str,
    park: ParkedMessage | None,
    releasing: int | None,
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
                _released(database, releasing)
                return Outcome.DUPLICATE
            if standing is Outcome.HELD and park is not None and releasing is None:
                _park(database, consumer=consumer, envelope=envelope, message=park)
                return Outcome.HELD
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
            _released(database, releasing)
    except _Held:
        return Outcome.HELD
    except IntegrityError:
        # Another consumer process recorded the same event id first.
        if processed.filter(consumer=consumer, event_id=envelope.event_id).exists():
            return Outcome.DUPLICATE
        raise
    return Outcome.APPLIED


def _park(
    database: str, *, consumer: str, envelope: EventEnvelope, message: ParkedMessage
) -> None:
    """Keep an event that is ahead, under its cursor's lock (taken above): who
    applies the event before it waits for this commit, then finds it."""
    HeldEvent.objects.using(database).bulk_create(
        [
            HeldEvent(
                consumer=consumer,
                event_id=envelope.event_id,
                aggregate_id=envelope.aggregate_id,
                aggregate_version=envelope.aggregate_version,
                body=message.body,
                message_id=message.message_id,
                message_attributes=dict(message.attributes),
                group_id=message.group_id,
            )
        ],
        ignore_conflicts=True,  # parked already: a redelivered message
    )


def _released(database: str, held_id: int | None) -> None:
    if held_id is not None:
        HeldEvent.objects.using(database).filter(id=held_id).delete()


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

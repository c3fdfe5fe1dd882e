"""Queueing events in the transactional outbox, in the writer's transaction.

``outbox_append`` runs inside the transaction that changes state, so the
state change and "this event must be published" commit or roll back
together. An event-sourced service goes one step further: its
``event_store_append(..., outbox=True)`` writes the events and their outbox
rows (``outbox_insert``) in one statement. What happens to the rows next,
the relay that publishes them, is the outbox stage's business
(``shared_events.outbox``, the relay).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from django.db import connections, router

from shared_events.event_keys import encode_signed
from shared_events.events import EventEnvelope
from shared_events.models import OutboxMessage

_ENQUEUE = (
    "INSERT INTO event_outbox (event_id, event_type, aggregate_type, aggregate_id,"
    " aggregate_version, body, attempts, last_error) VALUES {rows}"
)
_ROW = "(%s, %s, %s, %s, %s, %s, 0, '')"
_COLUMNS = (
    "event_id",
    "event_type",
    "aggregate_type",
    "aggregate_id",
    "aggregate_version",
    "body",
)


def outbox_insert(envelopes: Sequence[EventEnvelope]) -> tuple[str, list]:
    """The one ``INSERT`` that queues ``envelopes`` for the relay, with its parameters.

    ``encode_signed`` validates each envelope against the schema registry,
    signs it with its producer's key and refuses one over the broker's size
    limit now, at write time, rather than letting it fail later in the relay.
    The row's body is what the relay publishes, as it is: signed here.
    ``outbox_append`` runs the statement on its own;
    ``event_store_append(..., outbox=True)`` runs it inside the statement that
    appends the same events.
    """
    rows = [_values(envelope) for envelope in envelopes]
    return _statement(len(rows)), [value for row in rows for value in row]


def _statement(count: int) -> str:
    return _ENQUEUE.format(rows=", ".join([_ROW] * count))


def _values(envelope: EventEnvelope) -> tuple:
    return (
        envelope.event_id,
        envelope.event_type,
        envelope.aggregate_type,
        UUID(str(envelope.aggregate_id)),
        envelope.aggregate_version,
        encode_signed(envelope),
    )


def outbox_append(*, envelopes: Sequence[EventEnvelope]) -> list[OutboxMessage]:
    """Queue events for the relay, in the caller's transaction (one ``INSERT``)."""
    if not envelopes:
        return []
    rows = [_values(envelope) for envelope in envelopes]
    database = router.db_for_write(OutboxMessage)
    with connections[database].cursor() as cursor:
        cursor.execute(
            f"{_statement(len(rows))} RETURNING id, created_at, next_attempt_at",
            [value for row in rows for value in row],
        )
        returned = cursor.fetchall()
    messages = []
    for values, (row_id, created_at, due_at) in zip(rows, returned, strict=True):
        message = OutboxMessage(
            id=row_id,
            created_at=created_at,
            next_attempt_at=due_at,
            **dict(zip(_COLUMNS, values, strict=True)),
        )
        message._state.adding, message._state.db = False, database
        messages.append(message)
    return messages

"""The transactional outbox and its relay.

``outbox_append`` runs inside the transaction that changes state, so the
state change and "this event must be published" commit or roll back
together. An event-sourced service goes one step further: its
``event_store_append(..., outbox=True)`` writes the events and their outbox
rows (``outbox_insert``) in one statement. ``relay_batch`` later claims
unpublished rows, publishes them, and marks only the entries the broker
accepted.

Two rules a learner should notice:

- The relay selects every *unpublished* row, never "rows after the last id I
  saw". Ids are taken at insert, not at commit, so a transaction that commits
  late can hold a lower id than rows already relayed; a high-water mark would
  skip it forever.
- Rows are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED``: several relays
  can run at once, each gets disjoint rows, and none waits for another.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.db import connections, router, transaction
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone

from shared_events.aws.publishers import EventPublisher, OutgoingMessage, PublishResult
from shared_events.events import EventEnvelope, encode
from shared_events.models import OutboxMessage

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30

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

    ``encode`` validates each envelope against the schema registry and
    refuses one over the broker's size limit now, at write time, rather than
    letting it fail later in the relay. ``outbox_append`` runs the statement
    on its own; ``event_store_append(..., outbox=True)`` runs it inside the
    statement that appends the same events.
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
        encode(envelope),
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


@dataclass
class RelayResult:
    claimed: int = 0
    published: int = 0
    failed: int = 0
    batches: int = 0

    def __iadd__(self, other: RelayResult) -> RelayResult:
        self.claimed += other.claimed
        self.published += other.published
        self.failed += other.failed
        self.batches += other.batches
        return self


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter, capped at 30 seconds.

    The cap stays well inside how long a consumer holds back a later event of
    the same aggregate waiting for this one.
    """
    base = min(2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)
    return base * random.uniform(0.5, 1.0)


def outgoing_message(
    *, event_id: str, body: str, aggregate_id: str, event_type: str, aggregate_type: str
) -> OutgoingMessage:
    """The broker message of one event: the envelope is the body, as is."""
    return OutgoingMessage(
        id=event_id,
        body=body,
        group_id=aggregate_id,
        attributes={"event_type": event_type, "aggregate_type": aggregate_type},
    )


def _message(row: OutboxMessage) -> OutgoingMessage:
    return outgoing_message(
        event_id=str(row.event_id),
        body=row.body,
        aggregate_id=str(row.aggregate_id),
        event_type=row.event_type,
        aggregate_type=row.aggregate_type,
    )


def relay_batch(*, publisher: EventPublisher, batch_size: int = 100) -> RelayResult:
    """Claim up to batch_size due rows, publish them, mark what was accepted."""
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(published_at__isnull=True, next_attempt_at__lte=Now())
            .order_by("id")[:batch_size]
        )
        if not rows:
            return RelayResult()
        try:
            result = publisher.publish_batch([_message(row) for row in rows])
        except Exception as error:  # outside the port's contract: back off anyway
            logger.exception("relay: the publisher raised")
            reason = f"publisher raised {error.__class__.__name__}: {error}"
            result = PublishResult(failed={str(row.event_id): reason for row in rows})
        now = timezone.now()
        accepted = set(result.accepted)
        by_event = {str(row.event_id): row for row in rows}
        if accepted:
            OutboxMessage.objects.filter(
                id__in=[by_event[event_id].id for event_id in accepted]
            ).update(published_at=now, attempts=F("attempts") + 1, last_error="")
        failed = [row for row in rows if str(row.event_id) not in accepted]
        for row in failed:
            reason = result.failed.get(str(row.event_id), "not accepted by the broker")
            attempts = row.attempts + 1
            OutboxMessage.objects.filter(id=row.id).update(
                attempts=attempts,
                last_error=reason[:2000],
                # The database's clock, the same one the claim compares with.
                next_attempt_at=Now() + timedelta(seconds=backoff_seconds(attempts)),
            )
        if failed:
            logger.warning(
                "relay: %d of %d events not accepted, will retry: %s",
                len(failed),
                len(rows),
                result.failed.get(str(failed[0].event_id), "unknown reason"),
            )
    return RelayResult(
        claimed=len(rows), published=len(accepted), failed=len(failed), batches=1
    )


def relay_outbox(
    *,
    publisher: EventPublisher,
    batch_size: int = 100,
    time_budget_seconds: float = 20.0,
) -> RelayResult:
    """Relay batches until nothing is due or the time budget is spent.

    The budget keeps one run well inside the broker's visibility timeout for
    the Celery task, so a long backlog never makes the task run twice.
    """
    total = RelayResult()
    deadline = time.monotonic() + time_budget_seconds
    while time.monotonic() < deadline:
        result = relay_batch(publisher=publisher, batch_size=batch_size)
        total += result
        if result.claimed < batch_size or result.published == 0:
            break
    return total


def outbox_prune(*, retention: timedelta) -> int:
    """Delete published rows older than the retention period."""
    cutoff = timezone.now() - retention
    deleted, _ = OutboxMessage.objects.filter(
        published_at__isnull=False, published_at__lt=cutoff
    ).delete()
    return deleted


def outbox_pending_count() -> int:
    return OutboxMessage.objects.filter(published_at__isnull=True).count()

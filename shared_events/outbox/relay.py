"""The outbox relay: publish what the write side queued, mark what was accepted.

``relay_batch`` claims due, unpublished rows (``store.outbox_claim_due``),
hands them to a publisher (the port, ``shared_events.transport``) and marks
only the entries the broker accepted; the others are retried later with a
capped backoff. ``relay_outbox`` repeats that until nothing is due or its
time budget is spent. Publishing may therefore happen more than once, never
less: the consumers are idempotent.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shared_events.models import OutboxMessage
from shared_events.outbox.store import (
    outbox_claim_due,
    outbox_mark_failed,
    outbox_mark_published,
)
from shared_events.telemetry.metrics import events_relayed
from shared_events.transport import (
    EventPublisher,
    OutgoingMessage,
    PublishResult,
    outgoing_message,
)

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30


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


def message_of(row: OutboxMessage) -> OutgoingMessage:
    """The broker message for one outbox row: the envelope as written."""
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
        rows = outbox_claim_due(batch_size=batch_size)
        if not rows:
            return RelayResult()
        try:
            result = publisher.publish_batch([message_of(row) for row in rows])
        except Exception as error:  # outside the port's contract: back off anyway
            logger.exception("relay: the publisher raised")
            reason = f"publisher raised {error.__class__.__name__}: {error}"
            result = PublishResult(failed={str(row.event_id): reason for row in rows})
        now = timezone.now()
        accepted = set(result.accepted)
        by_event = {str(row.event_id): row for row in rows}
        if accepted:
            outbox_mark_published(
                rows=[by_event[event_id] for event_id in accepted], at=now
            )
        failed = [row for row in rows if str(row.event_id) not in accepted]
        for row in failed:
            reason = result.failed.get(str(row.event_id), "not accepted by the broker")
            attempts = row.attempts + 1
            outbox_mark_failed(
                row=row,
                attempts=attempts,
                reason=reason,
                retry_in_seconds=backoff_seconds(attempts),
            )
        if failed:
            logger.warning(
                "relay: %d of %d events not accepted, will retry: %s",
                len(failed),
                len(rows),
                result.failed.get(str(failed[0].event_id), "unknown reason"),
            )
    # Counted once the marks are committed: what the broker took, and not.
    events_relayed(
        service=settings.SERVICE_NAME,
        publisher=publisher,
        published=len(accepted),
        failed=len(failed),
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

"""The relay's reads and marks on the outbox rows the write side queued.

Two rules a learner should notice:

- The relay claims every *unpublished* row that is due, never "rows after
  the last id I saw". Ids are taken at insert, not at commit, so a
  transaction that commits late can hold a lower id than rows already
  relayed; a high-water mark would skip it forever.
- Rows are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED``: several relays
  can run at once, each gets disjoint rows, and none waits for another.
- A row is not claimed while an earlier version of its aggregate waits out
  a failure (unpublished, due later): publishing it would let it overtake
  the failed one, which a stream (Kinesis) keeps in that order for good, and
  the consumer would wait for the earlier version behind it in vain.

A row is marked published only once the broker accepted it; a row the broker
did not accept gets its attempt counted, the reason, and a later due time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Now
from django.utils import timezone

from shared_events.models import OutboxMessage


def outbox_claim_due(*, batch_size: int) -> list[OutboxMessage]:
    """Lock up to ``batch_size`` due, unpublished rows, oldest first.

    Call it inside a transaction: the rows stay claimed until it ends, and
    rows another relay holds are skipped, not waited for. A row behind an
    earlier version of its aggregate that failed and is not due yet stays
    where it is; once that one is due, both are claimed, in order.
    """
    behind_a_failure = OutboxMessage.objects.filter(
        aggregate_id=OuterRef("aggregate_id"),
        aggregate_version__lt=OuterRef("aggregate_version"),
        published_at__isnull=True,
        next_attempt_at__gt=Now(),
    )
    # Almost always no row waits out a failure: then the first test, one
    # probe of the partial index for the whole statement, spares the
    # per-row one.
    any_failure_waiting = OutboxMessage.objects.filter(
        published_at__isnull=True, next_attempt_at__gt=Now()
    )
    return list(
        OutboxMessage.objects.select_for_update(skip_locked=True)
        .filter(published_at__isnull=True, next_attempt_at__lte=Now())
        .filter(~Exists(any_failure_waiting) | ~Exists(behind_a_failure))
        .order_by("id")[:batch_size]
    )


def outbox_mark_published(*, rows: Sequence[OutboxMessage], at: datetime) -> None:
    """The broker accepted these rows: published now, one attempt more."""
    OutboxMessage.objects.filter(id__in=[row.id for row in rows]).update(
        published_at=at, attempts=F("attempts") + 1, last_error=""
    )


def outbox_mark_failed(
    *, row: OutboxMessage, attempts: int, reason: str, retry_in_seconds: float
) -> None:
    """The broker did not accept the row: count the attempt, keep the reason."""
    OutboxMessage.objects.filter(id=row.id).update(
        attempts=attempts,
        last_error=reason[:2000],
        # The database's clock, the same one the claim compares with.
        next_attempt_at=Now() + timedelta(seconds=retry_in_seconds),
    )


def outbox_prune(*, retention: timedelta) -> int:
    """Delete published rows older than the retention period."""
    cutoff = timezone.now() - retention
    deleted, _ = OutboxMessage.objects.filter(
        published_at__isnull=False, published_at__lt=cutoff
    ).delete()
    return deleted


def outbox_pending_count() -> int:
    return OutboxMessage.objects.filter(published_at__isnull=True).count()

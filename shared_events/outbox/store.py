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

from django.db import router
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone

from shared_events.models import OutboxMessage

# The claim, written out: the statement is the same on every call, so it is
# not rebuilt from the ORM's expressions each time (building and compiling
# that query took a third of a relay's CPU at figure 11's knee). Read it as
# the rules above: unpublished and due, not behind an earlier version of its
# aggregate that waits out a failure (the first test, one probe of the
# partial index for the whole statement, almost always spares the per-row
# one), oldest first, rows another relay holds skipped. Due is measured by
# the statement's clock, as Django's Now() is: not the transaction's start.
_TABLE = OutboxMessage._meta.db_table
CLAIM_DUE = f"""
    SELECT claimed.* FROM {_TABLE} AS claimed
    WHERE claimed.published_at IS NULL
      AND claimed.next_attempt_at <= statement_timestamp()
      AND (
        NOT EXISTS (
          SELECT 1 FROM {_TABLE} AS waiting
          WHERE waiting.published_at IS NULL
            AND waiting.next_attempt_at > statement_timestamp()
        )
        OR NOT EXISTS (
          SELECT 1 FROM {_TABLE} AS earlier
          WHERE earlier.aggregate_id = claimed.aggregate_id
            AND earlier.aggregate_version < claimed.aggregate_version
            AND earlier.published_at IS NULL
            AND earlier.next_attempt_at > statement_timestamp()
        )
      )
    ORDER BY claimed.id
    LIMIT %s
    FOR UPDATE SKIP LOCKED
"""


def outbox_claim_due(*, batch_size: int) -> list[OutboxMessage]:
    """Lock up to ``batch_size`` due, unpublished rows, oldest first.

    Call it inside a transaction: the rows stay claimed until it ends, and
    rows another relay holds are skipped, not waited for. A row behind an
    earlier version of its aggregate that failed and is not due yet stays
    where it is; once that one is due, both are claimed, in order.
    """
    database = router.db_for_write(OutboxMessage)
    return list(OutboxMessage.objects.db_manager(database).raw(CLAIM_DUE, [batch_size]))


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

"""Replaying events into the shadow tables, chunk by chunk.

Each chunk is one transaction on the rebuild's connection: the events,
folded by the live consumer's own projections in bulk
(``shared_events.read_side.bulk_projection``), and the replay positions they leave.
Passes repeat until one replays (almost) nothing new.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import DatabaseError, OperationalError, connections, transaction

from shared_events.consume import Outcome
from shared_events.read_side.bulk_projection import BulkProjection
from shared_events.read_side.projectors import Projector
from shared_events.read_side.rebuild.schema import (
    REBUILD_ALIAS,
    REBUILD_SCHEMA,
    RebuildError,
)
from shared_events.read_side.rebuild.source import ReplaySource, StoredRow

# A pass that replays no more than this many events is "caught up": the rest
# is replayed inside the switch's transaction, while the consumer waits.
FINAL_STEP_LIMIT = 50
# Should events arrive faster than they are replayed, switch anyway after
# this many passes: the switch replays the rest while the consumer waits.
MAX_CATCH_UP_PASSES = 100

Report = Callable[[str], None]


@dataclass
class RebuildResult:
    applied: int = 0
    duplicates: int = 0
    passes: int = 0
    reconciled: int = 0
    still_held: int = 0
    resumed_from: dict[str, int] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        text = (
            f"{self.applied} events replayed in {self.passes} passes "
            f"({self.duplicates} already there) in {self.seconds:.1f} s; "
            "switched to the rebuilt read models"
        )
        if self.reconciled:
            text += f"; {self.reconciled} taken over from the live consumer"
        return text


@dataclass
class ReplayRun:
    consumer: str
    handlers: Mapping[str, Sequence[Projector]]
    sources: list[ReplaySource]
    batch_size: int
    progress_every: int
    report: Report
    result: RebuildResult = field(default_factory=RebuildResult)
    next_report: int = 0


def replay_pass(run: ReplayRun) -> int:
    """Replay what the sources hold beyond their positions; the number applied."""
    applied_before = run.result.applied
    merged = heapq.merge(
        *(source.stream(run.batch_size) for source in run.sources),
        key=lambda row: row.order_key,
    )
    chunk: list[StoredRow] = []
    for row in merged:
        chunk.append(row)
        if len(chunk) >= run.batch_size:
            _apply_chunk(run, chunk)
            chunk = []
    _apply_chunk(run, chunk)
    run.result.passes += 1
    return run.result.applied - applied_before


def apply_rows(run: ReplayRun, rows: Sequence[StoredRow]) -> list[StoredRow]:
    """Apply events in bulk, in the caller's transaction; those held back.

    The same folds and the same ordering rule as the live consumer's
    ``apply_event``, for the whole chunk at once
    (``shared_events.read_side.bulk_projection``): nobody else writes the
    rebuild's tables, so nothing needs locking.
    """
    envelopes = [row.envelope() for row in rows]
    chunk = BulkProjection(
        consumer=run.consumer, handlers=run.handlers, database=REBUILD_ALIAS
    )
    chunk.load(envelopes)
    held = []
    for row, envelope in zip(rows, envelopes, strict=True):
        try:
            outcome = chunk.apply(envelope)
        except Exception as error:
            raise RebuildError(
                f"projecting {row.event_type} {row.event_id} ({row.source.service} "
                f"event store id {row.id}) failed: {error.__class__.__name__}: "
                f"{error}; fix it, then run again with --resume"
            ) from error
        if outcome is Outcome.HELD:
            held.append(row)
            continue
        row.source.mark_done(row.id)
        if outcome is Outcome.APPLIED:
            run.result.applied += 1
        else:
            run.result.duplicates += 1
    try:
        chunk.flush()
    except OperationalError:
        raise  # the connection or a lock, not the events: the caller decides
    except DatabaseError as error:
        raise RebuildError(
            f"writing {len(rows)} replayed events (event store ids "
            f"{rows[0].id}-{rows[-1].id}) failed: {error.__class__.__name__}: "
            f"{error}; fix it, then run again with --resume"
        ) from error
    return held


def _apply_chunk(run: ReplayRun, rows: Sequence[StoredRow]) -> None:
    """One transaction: the events, then the positions they leave."""
    positions = [source.position for source in run.sources]
    with transaction.atomic(using=REBUILD_ALIAS):
        if rows:
            apply_rows(run, rows)
        for source in run.sources:
            source.advance()
        moved = [
            s for s, p in zip(run.sources, positions, strict=True) if s.position != p
        ]
        with connections[REBUILD_ALIAS].cursor() as cursor:
            for source in moved:
                cursor.execute(
                    f"UPDATE {REBUILD_SCHEMA}.progress SET position = %s, "
                    "updated_at = now() WHERE source = %s",
                    [source.position, source.service],
                )
    done = run.result.applied + run.result.duplicates
    if run.progress_every and done >= run.next_report:
        positions = ", ".join(f"{s.service} at id {s.position}" for s in run.sources)
        run.report(
            f"{run.result.applied} events replayed, {run.result.duplicates} already "
            f"there ({positions})"
        )
        run.next_report = done + run.progress_every


def catch_up(run: ReplayRun) -> None:
    """Replay passes until one replays no more than a handful of events.

    A hole that is not proven for good yet does not hold the catch-up: the
    next pass reads again from below it, and whatever is still missing at
    the switch reaches the new tables through the live consumer.
    """
    for _ in range(MAX_CATCH_UP_PASSES):
        if replay_pass(run) <= FINAL_STEP_LIMIT:
            return

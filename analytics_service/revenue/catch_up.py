"""Joining a running platform: subscribe first, replay the past, then follow.

The order of the steps is the whole lesson:

1. **Subscribe first.** The analytics inbox is created and subscribed to the
   order events topic (``shared_events.transport``: the same provisioning,
   dead-letter queue and least-privilege queue policy as every inbox) before
   anything is read. From that moment every event the order service
   publishes reaches the inbox, whatever the replay does.
2. **Replay the past.** The order service's event store is read from its
   first row, through a read-only connection (the way a read-model rebuild
   reads a peer's store: ``shared_events.read_side.rebuild``), and each event
   is applied through ``apply_event``, the consumer's own idempotent core,
   under the live consumer's name. Every event committed before the replay
   read is in it; every event published after step 1 is in the inbox; an
   event in both is applied once (its processed-event record, its
   aggregate's cursor).
3. **Follow live.** The inbox is consumed by the platform's ordinary SQS
   consumer (``consume_events``): what the replay applied already comes back
   from the inbox as a duplicate and changes nothing.

Only an event whose aggregate the order service owns is applied: the replay
reads the order service's own store, and checks it anyway, as a consumer
checks a signed message's provenance.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from analytics_service.revenue.handlers import REVENUE_HANDLERS
from shared_events.consume import Handler, Outcome, apply_event
from shared_events.events import InvalidEvent, check_provenance
from shared_events.read_side.rebuild import (
    ReplaySource,
    StoredRow,
    read_only_event_store,
)
from shared_events.transport import ConsumerSettings, messaging

CONSUMER = "analytics"
PRODUCER = "order"
# The order service's event store, read-only, for the replay only.
REPLAY_ALIAS = "analytics_order_history"
# Passes over the store: the first reads everything; the next ones what was
# committed meanwhile (the inbox has it too, so they only shorten the wait).
MAX_PASSES = 5

Report = Callable[[str], None]


@dataclass
class ReplayResult:
    read: int = 0
    applied: int = 0
    duplicates: int = 0
    held: int = 0
    refused: int = 0
    passes: int = 0
    seconds: float = 0.0
    by_type: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"replayed {self.read} events of the {PRODUCER} service's event store "
            f"in {self.passes} passes and {self.seconds:.1f} s: {self.applied} "
            f"applied, {self.duplicates} already applied, {self.held} held for an "
            f"earlier version, {self.refused} refused"
        )

    def as_dict(self) -> dict:
        return {
            "read": self.read,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "held": self.held,
            "refused": self.refused,
            "passes": self.passes,
            "seconds": round(self.seconds, 3),
        }


def subscribe_inbox() -> ConsumerSettings:
    """Step 1: the analytics inbox exists and hears the order events topic."""
    return messaging.consumer_settings(CONSUMER)


def replay_order_history(
    *,
    event_store_url: str,
    consumer: str,
    handlers: Mapping[str, Sequence[Handler]] = REVENUE_HANDLERS,
    batch_size: int = 500,
    progress_every: int = 1000,
    report: Report = print,
) -> ReplayResult:
    """Step 2: every event of the order service's store, through ``apply_event``.

    ``consumer`` is the live consumer's tracking name, so what the replay
    applies is a duplicate when the inbox delivers it again, and the other
    way round.
    """
    started = time.monotonic()
    result = ReplayResult()
    next_report = progress_every
    with read_only_event_store(event_store_url, alias=REPLAY_ALIAS):
        source = ReplaySource(service=PRODUCER, alias=REPLAY_ALIAS, rank=0)
        held: list[StoredRow] = []
        for _ in range(MAX_PASSES):
            applied_before = result.applied
            for row in source.stream(batch_size):
                result.read += 1
                if _apply(row, consumer, handlers, result) is Outcome.HELD:
                    held.append(row)
                else:
                    source.mark_done(row.id)
                if progress_every and result.read >= next_report:
                    report(
                        f"{result.read} events read, {result.applied} applied, "
                        f"{result.duplicates} already applied"
                    )
                    next_report += progress_every
            held = _retry_held(held, source, consumer, handlers, result)
            source.advance()
            result.passes += 1
            if result.applied == applied_before:
                break
    result.held = len(held)
    result.seconds = time.monotonic() - started
    return result


def _apply(
    row: StoredRow,
    consumer: str,
    handlers: Mapping[str, Sequence[Handler]],
    result: ReplayResult,
) -> Outcome:
    envelope = row.envelope()
    try:
        check_provenance(envelope)
        if envelope.producer != PRODUCER:
            raise InvalidEvent(f"producer {envelope.producer!r} in the order store")
    except InvalidEvent:
        result.refused += 1
        return Outcome.DEAD_LETTERED
    outcome = apply_event(
        consumer=consumer,
        envelope=envelope,
        handlers=handlers.get(envelope.event_type, ()),
    )
    if outcome is Outcome.APPLIED:
        result.applied += 1
        result.by_type[envelope.event_type] = (
            result.by_type.get(envelope.event_type, 0) + 1
        )
    elif outcome is Outcome.DUPLICATE:
        result.duplicates += 1
    return outcome


def _retry_held(
    held: list[StoredRow],
    source: ReplaySource,
    consumer: str,
    handlers: Mapping[str, Sequence[Handler]],
    result: ReplayResult,
) -> list[StoredRow]:
    """Events read ahead of their aggregate's cursor, tried again in id order
    until none moves (what still waits is the inbox's to deliver)."""
    while held:
        still: list[StoredRow] = []
        for row in held:
            if _apply(row, consumer, handlers, result) is Outcome.HELD:
                still.append(row)
            else:
                source.mark_done(row.id)
        if len(still) == len(held):
            return still
        held = still
    return held

"""The consumer's resequencer: events that came ahead of their turn, parked.

A standard SQS queue delivers in no set order. An event whose version is
ahead of its aggregate's cursor cannot be applied yet; the consumer parks it
in its own database (``HeldEvent``, in the transaction that found it ahead)
and deletes the message. Whoever applies the event before it then releases
the parked ones that follow, in version order, each in its own transaction.

Why not leave it on the queue, to be received again later? That costs a
receive per try, and an unordered queue hands a backlog back in random
order: after an outage, a hundred events of one busy aggregate need dozens
of passes over the queue, and their receives run out (the redrive policy
dead-letters them) long before the gap closes. Parked, each message is
received once, and the backlog drains in one pass.

A gap that never closes (an event lost for good, as in approach 3) is still
a dead letter: when an aggregate's cursor has not moved for
``gap_patience_seconds`` since its first event was parked, ``sweep`` sends
the parked events to the dead-letter queue, exactly as they arrived, with
the reason. A parked event whose handler fails is retried by the sweep and
dead-lettered after ``max_attempts`` failures, like a message on the queue.

What a learner should notice: the cursor's lock is the whole
synchronisation. Parking and applying the event before it both take it, so
one of them commits first and the other sees it: either the earlier event is
applied before the later one is looked at (no parking), or the parked row
is there to be released.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import InterfaceError, OperationalError, connections, transaction

from shared_events.consume.dead_letter import (
    envelope_text,
    read_event,
    send_dead_letter,
)
from shared_events.consume.tracking import Handler, Outcome, apply_event
from shared_events.models import AggregateCursor, HeldEvent
from shared_events.telemetry.metrics import event_applied, event_handled

logger = logging.getLogger(__name__)

#: Sends one parked event to the dead-letter queue with the reason.
DeadLetterSender = Callable[[HeldEvent, str], None]


def dead_letter_to(sqs: Any, queue_url: str) -> DeadLetterSender:
    """A sender to the queue at ``queue_url``: each parked event exactly as
    it arrived (its body, its message's attributes and group), with the reason."""

    def send(held: HeldEvent, reason: str) -> None:
        send_dead_letter(
            sqs,
            queue_url=queue_url,
            body=held.body,
            reason=reason,
            deduplication_id=held.message_id or str(held.event_id),
            attributes=held.message_attributes,
            group_id=held.group_id or None,
        )
        logger.error("parked event %s dead-lettered: %s", held.event_id, reason)

    return send


class DatabaseDown(RuntimeError):
    """The database could not be reached while releasing or sweeping."""


@dataclass(frozen=True)
class Gap:
    """An aggregate with parked events: its first parked version, its
    cursor's version, and whether the cursor stood still for the patience."""

    aggregate_id: UUID
    first_parked: int
    cursor: int
    stood_still: bool

    @property
    def closed(self) -> bool:
        return self.first_parked <= self.cursor + 1


class HeldEvents:
    """One consumer's parked events in its database."""

    def __init__(
        self,
        *,
        consumer: str,
        database: str,
        handlers: Mapping[str, Sequence[Handler]],
        gap_patience_seconds: float,
        max_attempts: int,
        dead_letter: DeadLetterSender | None,
    ) -> None:
        """``dead_letter`` None: no dead-letter queue, so what would go there
        stays parked (and counted by the platform's backlog) instead."""
        self.consumer = consumer
        self.database = database
        self.handlers = handlers
        self.gap_patience_seconds = gap_patience_seconds
        self.max_attempts = max_attempts
        self.dead_letter = dead_letter

    def _rows(self):
        return HeldEvent.objects.using(self.database).filter(consumer=self.consumer)

    def waiting(self, aggregate_ids: set[str]) -> set[str]:
        """Which of these aggregates have events parked: one query."""
        if not aggregate_ids:
            return set()
        found = self._rows().filter(aggregate_id__in=aggregate_ids)
        return {str(a) for a in found.values_list("aggregate_id", flat=True)}

    def count(self) -> int:
        return self._rows().count()

    def release(self, aggregate_id: str | UUID) -> list[Outcome]:
        """Apply the aggregate's parked events that are now next, in order."""
        outcomes: list[Outcome] = []
        while True:
            held = (
                self._rows()
                .filter(aggregate_id=aggregate_id)
                .order_by("aggregate_version")
                .first()
            )
            if held is None:
                return outcomes
            outcome = self._apply(held)
            if outcome in (None, Outcome.HELD):  # failed, or still a gap
                return outcomes
            outcomes.append(outcome)

    def _apply(self, held: HeldEvent) -> Outcome | None:
        # Read once already, when parked (from an SNS notification's Message
        # if the subscription wraps it).
        envelope = read_event(envelope_text(held.body))
        try:
            outcome = apply_event(
                consumer=self.consumer,
                envelope=envelope,
                handlers=self.handlers.get(envelope.event_type, ()),
                database=self.database,
                releasing=held.id,
            )
        except (OperationalError, InterfaceError) as error:
            raise DatabaseDown(f"database unavailable: {error}") from error
        except Exception as error:  # a handler bug must not stop the consumer
            logger.exception("handler failed for parked %s", envelope.event_id)
            self._failed(
                held,
                f"{envelope.event_type} {envelope.event_id}: handler failed: "
                f"{error.__class__.__name__}: {error}",
            )
            return None
        if outcome is not Outcome.HELD:
            event_handled(consumer=self.consumer, outcome=outcome.value)
        if outcome is Outcome.APPLIED:
            event_applied(consumer=self.consumer, occurred_at=envelope.occurred_at)
        return outcome

    def _failed(self, held: HeldEvent, reason: str) -> None:
        attempts = held.failed_attempts + 1
        self._rows().filter(id=held.id).update(failed_attempts=attempts)
        if attempts >= self.max_attempts and self.dead_letter is not None:
            with transaction.atomic(using=self.database):
                if self._locked(self._rows().filter(id=held.id)):
                    self.dead_letter(held, reason)
                    self._rows().filter(id=held.id).delete()
            event_handled(consumer=self.consumer, outcome=Outcome.DEAD_LETTERED.value)

    @staticmethod
    def _locked(rows) -> list[int]:
        """Lock these rows until the transaction ends; their ids."""
        return list(rows.select_for_update().values_list("id", flat=True))

    def gaps(self, aggregate_id: UUID | None = None) -> list[Gap]:
        """Every aggregate with parked events (or just this one), against its
        cursor. The patience runs from the later of the cursor's last move
        and the aggregate's first parked event."""
        held, cursors = HeldEvent._meta.db_table, AggregateCursor._meta.db_table
        only = "AND h.aggregate_id = %s " if aggregate_id else ""
        with connections[self.database].cursor() as cursor:
            cursor.execute(
                "SELECT h.aggregate_id, min(h.aggregate_version), "
                "coalesce(c.version, 0), now() - greatest(c.updated_at, "
                "min(h.held_at)) >= make_interval(secs => %s) "
                f"FROM {held} h LEFT JOIN {cursors} c "
                "ON c.consumer = h.consumer AND c.aggregate_id = h.aggregate_id "
                f"WHERE h.consumer = %s {only}"
                "GROUP BY h.aggregate_id, c.version, c.updated_at",
                [self.gap_patience_seconds, self.consumer]
                + ([aggregate_id] if aggregate_id else []),
            )
            return [Gap(*row) for row in cursor.fetchall()]

    def sweep(self) -> list[Outcome]:
        """Release what is due (a crash between an apply and its release, or
        a handler that failed before), and dead-letter every gap that stood
        still for the patience."""
        outcomes: list[Outcome] = []
        try:
            for gap in self.gaps():
                if gap.closed:
                    outcomes += self.release(gap.aggregate_id)
                elif gap.stood_still and self.dead_letter is not None:
                    outcomes += self._give_up(gap.aggregate_id)
        except (OperationalError, InterfaceError) as error:
            raise DatabaseDown(f"database unavailable: {error}") from error
        return outcomes

    def _give_up(self, aggregate_id: UUID) -> list[Outcome]:
        """Dead-letter the aggregate's parked events, under its cursor's lock,
        once sure (again, under that lock) the gap is still there and still."""
        with transaction.atomic(using=self.database):
            self._locked(
                AggregateCursor.objects.using(self.database).filter(
                    consumer=self.consumer, aggregate_id=aggregate_id
                )
            )
            gap = next(iter(self.gaps(aggregate_id)), None)
            if gap is None or gap.closed or not gap.stood_still:
                return []
            parked = list(
                self._rows()
                .filter(aggregate_id=aggregate_id)
                .order_by("aggregate_version")
                .select_for_update()
            )
            for held in parked:
                envelope = read_event(envelope_text(held.body))
                self.dead_letter(
                    held,
                    f"{envelope.event_type} {envelope.event_id}: version gap never "
                    f"closed (version {held.aggregate_version})",
                )
            self._rows().filter(id__in=[held.id for held in parked]).delete()
        for _ in parked:
            event_handled(consumer=self.consumer, outcome=Outcome.DEAD_LETTERED.value)
        logger.error(
            "%s: %d parked event(s) of %s dead-lettered: version gap never closed",
            self.consumer,
            len(parked),
            aggregate_id,
        )
        return [Outcome.DEAD_LETTERED] * len(parked)

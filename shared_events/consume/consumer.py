"""The idempotent, ordered SQS consumer.

For each message, ``apply_event`` (``tracking``) applies the event in ONE
database transaction with its processed-event record and the aggregate's
cursor (a duplicate is acknowledged and skipped). Only after the commit is
the message deleted from the queue. A crash between the commit and the
delete means the message comes back, and the processed-event record turns
it into a no-op: effects happen exactly once although delivery is at least
once.

Ordering: messages of one batch are handled in version order per aggregate;
an event whose ``aggregate_version`` is still ahead of the next expected one
is *held*: parked in the consumer's database and its message deleted, and
applied as soon as the event before it is (``held_events``, the
resequencer). Holding needs nothing from the producer: fetching the missing
event from it would couple the consumer to the producer's API again, the
coupling events were meant to remove. A gap that never closes (an event
lost for good, as in approach 3) ends in the dead-letter queue with the
reason, once its aggregate stood still for ``gap_patience_seconds``.

A message that cannot be processed (invalid envelope, unknown type, handler
error) is retried with backoff and, on its last allowed receive, moved to
the dead-letter queue by the consumer itself with the reason as a message
attribute; the queue's redrive policy is the safety net behind that. Other
messages keep flowing meanwhile.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.db import InterfaceError, OperationalError, close_old_connections

from shared_events.consume.dead_letter import (
    poison_reason,
    read_event,
    send_dead_letter,
)
from shared_events.consume.held_events import (
    DatabaseDown,
    HeldEvents,
    dead_letter_to,
)
from shared_events.consume.tracking import (
    Handler,
    Outcome,
    ParkedMessage,
    apply_event,
)
from shared_events.events import InvalidEvent
from shared_events.telemetry.metrics import event_applied, event_handled
from shared_events.transport import ConsumerSettings

logger = logging.getLogger(__name__)

MAX_RETRY_DELAY_SECONDS = 30


@dataclass
class ConsumerStats:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.value] = self.counts.get(outcome.value, 0) + 1

    def __str__(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())) or "none"


class InfrastructureDown(RuntimeError):
    """The database cannot be reached: pause, do not blame the message."""


def retry_delay(receive_count: int) -> int:
    return min(2 ** max(receive_count - 1, 0), MAX_RETRY_DELAY_SECONDS)


def in_version_order(messages: list[dict]) -> list[dict]:
    """A batch sorted by aggregate and version, so events of one aggregate that
    arrived together are applied without holding any. Only a peek at the
    body: what cannot be read keeps its place at the end, for ``read_event``
    to refuse with the reason."""

    def key(message: dict) -> tuple[int, str, int]:
        try:
            body = json.loads(message["Body"])
            return (0, str(body["aggregate_id"]), int(body["aggregate_version"]))
        except (ValueError, KeyError, TypeError):
            return (1, "", 0)

    return sorted(messages, key=key)


class EventConsumer:
    """Long-polls one SQS queue with boto3 and applies what it receives."""

    def __init__(
        self,
        *,
        settings: ConsumerSettings,
        sqs: Any,
        handlers: Mapping[str, Sequence[Handler]],
    ) -> None:
        self.settings = settings
        self.sqs = sqs
        self.handlers = handlers
        self.stats = ConsumerStats()
        # During poll_once: the messages handled, to delete in one request.
        self._done: list[dict] | None = None
        # During poll_once: the aggregates an event was applied to.
        self._advanced: set[str] = set()
        self.held = HeldEvents(
            consumer=settings.name,
            database=settings.database,
            handlers=handlers,
            gap_patience_seconds=settings.gap_patience_seconds,
            max_attempts=settings.max_receive_count,
            dead_letter=(
                dead_letter_to(sqs, settings.dead_letter_queue_url)
                if settings.dead_letter_queue_url
                else None
            ),
        )
        self._sweep_every = min(5.0, max(0.5, settings.gap_patience_seconds / 4))
        self._next_sweep = time.monotonic() + self._sweep_every

    def receive(self) -> list[dict]:
        response = self.sqs.receive_message(
            QueueUrl=self.settings.queue_url,
            MaxNumberOfMessages=self.settings.max_messages,
            WaitTimeSeconds=self.settings.wait_time_seconds,
            VisibilityTimeout=self.settings.visibility_timeout,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return response.get("Messages", [])

    def poll_once(self) -> list[Outcome]:
        """Receive up to one batch and handle each message; the outcomes.

        The messages done with are deleted together at the end of the batch,
        one request instead of one each. Each was committed before; a crash
        before the delete only brings duplicates back, which change nothing.
        Then the events parked behind the ones just applied are released
        (their outcomes follow the batch's), and, every few seconds, the
        parked events are swept (``HeldEvents.sweep``).
        """
        self._done, self._advanced = [], set()
        try:
            outcomes = [self.handle(m) for m in in_version_order(self.receive())]
        finally:
            done, self._done = self._done, None
            self._delete_batch(done)
        try:
            for aggregate_id in self.held.waiting(self._advanced):
                outcomes += self.held.release(aggregate_id)
            if time.monotonic() >= self._next_sweep:
                outcomes += self.held.sweep()
                self._next_sweep = time.monotonic() + self._sweep_every
        except DatabaseDown as error:
            close_old_connections()
            raise InfrastructureDown(str(error)) from error
        for outcome in outcomes:
            self.stats.add(outcome)
        return outcomes

    def run(self, stop: threading.Event, *, idle_exit: bool = False) -> ConsumerStats:
        """Poll until ``stop`` is set; the batch in hand is always finished.

        An unreachable broker or database pauses the loop instead of ending
        it: the messages in hand go back to the queue when their visibility
        timeout ends, and nothing is dead-lettered for an outage.
        """
        pause = 0.5
        while not stop.is_set():
            try:
                outcomes = self.poll_once()
            except (BotoCoreError, ClientError, InfrastructureDown) as error:
                logger.warning("consumer paused %.1fs: %s", pause, error)
                stop.wait(pause)
                pause = min(pause * 2, 10.0)
                continue
            pause = 0.5
            if idle_exit and not outcomes:
                break
            if 0 < len(outcomes) < self.settings.max_messages:
                # A partial batch: let the next one gather (batch window).
                stop.wait(self.settings.batch_window_seconds)
        return self.stats

    def handle(self, message: dict) -> Outcome:
        """Handle one message; its outcome, counted by consumer (metrics)."""
        outcome = self._handle(message)
        event_handled(consumer=self.settings.name, outcome=outcome.value)
        return outcome

    def _handle(self, message: dict) -> Outcome:
        receive_count = int(
            message.get("Attributes", {}).get("ApproximateReceiveCount", 1)
        )
        try:
            envelope = read_event(message["Body"])
        except InvalidEvent as error:
            # Invalid or untrusted (forged, mismatched): never handled, and
            # dead-lettered with the reason once its receives are used up.
            return self._failed(message, receive_count, poison_reason(error))
        handlers = self.handlers.get(envelope.event_type, ())
        try:
            outcome = apply_event(
                consumer=self.settings.name,
                envelope=envelope,
                handlers=handlers,
                database=self.settings.database,
                park=ParkedMessage(
                    body=message["Body"],
                    message_id=message.get("MessageId", ""),
                    attributes=message.get("MessageAttributes", {}),
                    group_id=message.get("Attributes", {}).get("MessageGroupId", ""),
                ),
            )
        except (OperationalError, InterfaceError) as error:
            # The database, not the event, is at fault: leave the message for
            # a later receive and pause, rather than count it as a failure.
            close_old_connections()
            raise InfrastructureDown(f"database unavailable: {error}") from error
        except Exception as error:  # a handler bug must not stop the consumer
            logger.exception("handler failed for %s", envelope.event_id)
            return self._failed(
                message,
                receive_count,
                f"{envelope.event_type} {envelope.event_id}: handler failed: "
                f"{error.__class__.__name__}: {error}",
            )
        if outcome is Outcome.APPLIED:
            event_applied(consumer=self.settings.name, occurred_at=envelope.occurred_at)
            self._advanced.add(envelope.aggregate_id)
        # Applied, a duplicate, or parked (HELD): committed, so done with.
        self._delete(message)
        return outcome

    def _failed(self, message: dict, receive_count: int, reason: str) -> Outcome:
        logger.warning(
            "message %s failed (receive %d of %d): %s",
            message.get("MessageId"),
            receive_count,
            self.settings.max_receive_count,
            reason,
        )
        if receive_count >= self.settings.max_receive_count:
            return self._dead_letter(message, reason)
        self._retry_later(message, receive_count)
        return Outcome.RETRY

    def _retry_later(self, message: dict, receive_count: int) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=self.settings.queue_url,
            ReceiptHandle=message["ReceiptHandle"],
            VisibilityTimeout=retry_delay(receive_count),
        )

    def _dead_letter(self, message: dict, reason: str) -> Outcome:
        if not self.settings.dead_letter_queue_url:
            # Leave it to the queue's redrive policy.
            self._retry_later(message, self.settings.max_receive_count)
            return Outcome.RETRY
        send_dead_letter(
            self.sqs,
            queue_url=self.settings.dead_letter_queue_url,
            body=message["Body"],
            reason=reason,
            deduplication_id=message["MessageId"],
            attributes=message.get("MessageAttributes", {}),
            group_id=message.get("Attributes", {}).get("MessageGroupId"),
        )
        self._delete(message)
        logger.error("message %s dead-lettered: %s", message.get("MessageId"), reason)
        return Outcome.DEAD_LETTERED

    def _delete(self, message: dict) -> None:
        if self._done is not None:
            self._done.append(message)  # deleted with the rest of the batch
            return
        self.sqs.delete_message(
            QueueUrl=self.settings.queue_url, ReceiptHandle=message["ReceiptHandle"]
        )

    def _delete_batch(self, messages: list[dict]) -> None:
        for start in range(0, len(messages), 10):  # SQS takes ten at a time
            chunk = messages[start : start + 10]
            response = self.sqs.delete_message_batch(
                QueueUrl=self.settings.queue_url,
                Entries=[
                    {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"]}
                    for number, message in enumerate(chunk)
                ],
            )
            for failure in response.get("Failed", []):
                # The message comes back after its visibility timeout and is
                # then a duplicate: nothing is lost, nothing applied twice.
                logger.warning(
                    "could not delete message %s: %s",
                    chunk[int(failure["Id"])].get("MessageId"),
                    failure.get("Message", failure.get("Code")),
                )

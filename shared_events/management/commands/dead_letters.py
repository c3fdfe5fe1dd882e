"""``dead_letters``: look at a service's dead-letter queue, and send letters back.

A message the consumer could not process (an invalid envelope, a handler
bug, a version gap that never closed) ends in the inbox's dead-letter queue,
with the reason in its ``failure_reason`` attribute. Once the cause is fixed
(a handler deployed, a missing event published), ``redrive`` sends the
message back to the inbox and the consumer applies it: its processed-event
record makes a second delivery of an event already applied a no-op, so a
redrive never doubles an effect.

Listing does not consume: each message is received with a short visibility
timeout and made visible again at once.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shared_events import messaging

#: How long a listed message stays hidden if the command dies before it is
#: made visible again: long enough to read the whole queue, short enough
#: that the consumer and the next listing soon see it again.
HOLD_SECONDS = 30
FAILURE_REASON = "failure_reason"


@dataclass(frozen=True)
class DeadLetter:
    """One message in a dead-letter queue, as SQS returned it."""

    message: dict[str, Any] = field(repr=False)

    @property
    def message_id(self) -> str:
        return self.message["MessageId"]

    @property
    def body(self) -> str:
        return self.message["Body"]

    @property
    def attributes(self) -> dict[str, dict]:
        return self.message.get("MessageAttributes", {})

    @property
    def failure_reason(self) -> str:
        reason = self.attributes.get(FAILURE_REASON, {}).get("StringValue")
        return reason or "(none recorded: moved by the queue's redrive policy)"

    @property
    def receive_count(self) -> int:
        """How often SQS handed the message out before the receive in hand:
        earlier listings, and the consumer's receives when the queue's redrive
        policy moved it here (the consumer sends its own letters anew)."""
        attributes = self.message.get("Attributes", {})
        return max(int(attributes.get("ApproximateReceiveCount", 1)) - 1, 0)

    def event(self) -> dict[str, Any]:
        """What the body says about its event; {} for a body that is no JSON object."""
        try:
            data = json.loads(self.body)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def describe(self) -> tuple[str, str]:
        """(event type, aggregate) for the listing."""
        event = self.event()
        event_type = event.get("event_type") or self._attribute("event_type")
        aggregate_type = event.get("aggregate_type") or self._attribute(
            "aggregate_type"
        )
        aggregate = f"{aggregate_type or '?'} {event.get('aggregate_id', '?')}"
        if "aggregate_version" in event:
            aggregate += f" v{event['aggregate_version']}"
        return event_type or "(not an event)", aggregate

    def _attribute(self, name: str) -> str | None:
        return self.attributes.get(name, {}).get("StringValue")

    def attributes_to_resend(self) -> dict[str, dict]:
        """The message's own attributes, without the reason it failed."""
        resend = {}
        for name, value in self.attributes.items():
            if name == FAILURE_REASON:
                continue
            kept = {"DataType": value["DataType"]}
            for key in ("StringValue", "BinaryValue"):
                if key in value:
                    kept[key] = value[key]
            resend[name] = kept
        return resend


class DeadLetterQueue:
    """A consumer's dead-letter queue and the inbox its letters go back to."""

    def __init__(self, *, sqs: Any, queue_url: str, inbox_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.inbox_url = inbox_url

    def hold_all(self, *, limit: int) -> list[DeadLetter]:
        """Receive up to ``limit`` letters, each hidden for HOLD_SECONDS.

        A held message is not received again, so the loop ends when every
        visible one is in hand. A one-second long poll asks every SQS server:
        a short poll may answer empty while messages remain.
        """
        letters: dict[str, DeadLetter] = {}
        while len(letters) < limit:
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, limit - len(letters)),
                VisibilityTimeout=HOLD_SECONDS,
                WaitTimeSeconds=1,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                break
            for message in batch:
                letters.setdefault(message["MessageId"], DeadLetter(message))
        return list(letters.values())

    def release(self, letters: list[DeadLetter]) -> None:
        """Make held letters visible again, at once."""
        for start in range(0, len(letters), 10):
            chunk = letters[start : start + 10]
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {
                        "Id": str(index),
                        "ReceiptHandle": letter.message["ReceiptHandle"],
                        "VisibilityTimeout": 0,
                    }
                    for index, letter in enumerate(chunk)
                ],
            )

    def redrive(self, letter: DeadLetter) -> None:
        """Send the letter back to the inbox as it came, then delete it here.

        Sent first, deleted second: a crash in between leaves it in both
        queues, and the consumer's processed-event record absorbs the double.
        """
        extra = {}
        if self.inbox_url.endswith(".fifo"):
            attributes = letter.message.get("Attributes", {})
            extra = {
                "MessageGroupId": attributes.get("MessageGroupId")
                or letter.event().get("aggregate_id", "redriven"),
                # A fresh id: the original's may still be in SQS's 5-minute
                # deduplication window, and SQS would drop the redrive.
                "MessageDeduplicationId": f"{letter.message_id}-{uuid.uuid4().hex}",
            }
        self.sqs.send_message(
            QueueUrl=self.inbox_url,
            MessageBody=letter.body,
            MessageAttributes=letter.attributes_to_resend(),
            **extra,
        )
        self.sqs.delete_message(
            QueueUrl=self.queue_url, ReceiptHandle=letter.message["ReceiptHandle"]
        )


class Command(BaseCommand):
    help = (
        "The service's dead-letter queue: 'list' shows each message (id, event "
        "type, aggregate, failure_reason, and receive_count: how often SQS "
        "handed it out before) without consuming it; "
        "'redrive --id ID ... | --all' sends messages back to the inbox with "
        "their original body and attributes (less failure_reason) and deletes "
        "them from the dead-letter queue."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{list,redrive}"
        )
        listing = actions.add_parser(
            "list",
            help="show the dead letters; they stay in the queue",
            description="Show the dead letters; they stay in the queue.",
        )
        redrive = actions.add_parser(
            "redrive",
            help="send dead letters back to the inbox",
            description="Send dead letters back to the inbox, then delete them "
            "from the dead-letter queue.",
        )
        chosen = redrive.add_mutually_exclusive_group(required=True)
        chosen.add_argument(
            "--id",
            dest="message_ids",
            action="append",
            metavar="MESSAGE_ID",
            help="the SQS message id of a letter to redrive (as 'list' shows "
            "it); repeat for several",
        )
        chosen.add_argument(
            "--all",
            action="store_true",
            help="redrive every letter in the queue",
        )
        for subparser in (listing, redrive):
            subparser.add_argument(
                "--side",
                choices=["write", "read"],
                default="write",
                help="write: the dead letters of the service's own inbox "
                "(default); read: those of approach 5's read-side inbox",
            )
            subparser.add_argument(
                "--limit",
                type=int,
                default=1000,
                help="look at no more than this many letters (default 1000)",
            )

    def handle(self, *args, action, side, limit, **options):
        if limit < 1:
            raise CommandError("--limit must be at least 1")
        queue = self._queue(side)
        letters = queue.hold_all(limit=limit)
        if action == "list":
            queue.release(letters)
            self._list(queue, letters)
            if len(letters) == limit:
                self.stdout.write(f"(the first {limit}; --limit shows more)")
            return
        if options["all"]:
            chosen, others = letters, []
        else:
            wanted = set(options["message_ids"])
            chosen = [letter for letter in letters if letter.message_id in wanted]
            others = [letter for letter in letters if letter.message_id not in wanted]
            missing = wanted - {letter.message_id for letter in chosen}
            if missing:
                queue.release(letters)
                raise CommandError(
                    "not in the dead-letter queue (nothing was redriven): "
                    + ", ".join(sorted(missing))
                )
        queue.release(others)
        for letter in chosen:
            queue.redrive(letter)
            event_type, aggregate = letter.describe()
            self.stdout.write(
                f"redriven {letter.message_id}  {event_type}  {aggregate}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(chosen)} message(s) sent back to {queue.inbox_url}"
            )
        )

    def _queue(self, side: str) -> DeadLetterQueue:
        service = settings.SERVICE_NAME
        if side == "read":
            if not settings.APPROACH_HAS_READ_SIDE:
                raise CommandError(
                    f"approach {settings.ARCHITECTURE_APPROACH} has no read side; "
                    "it is approach 5 (cqrs_es) that keeps read databases"
                )
            consumer = messaging.consumer_settings(f"{service}-read")
        else:
            consumer = messaging.consumer_settings(service)
        if not consumer.dead_letter_queue_url:
            raise CommandError(f"{consumer.name} has no dead-letter queue")
        return DeadLetterQueue(
            sqs=messaging.sqs_client(),
            queue_url=consumer.dead_letter_queue_url,
            inbox_url=consumer.queue_url,
        )

    def _list(self, queue: DeadLetterQueue, letters: list[DeadLetter]) -> None:
        self.stdout.write(f"{len(letters)} dead letter(s) in {queue.queue_url}")
        for letter in letters:
            event_type, aggregate = letter.describe()
            self.stdout.write(letter.message_id)
            self.stdout.write(f"    event_type: {event_type}")
            self.stdout.write(f"    aggregate: {aggregate}")
            self.stdout.write(f"    failure_reason: {letter.failure_reason}")
            self.stdout.write(f"    receive_count: {letter.receive_count}")

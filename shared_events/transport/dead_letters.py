"""A consumer's dead-letter queue: look at its letters, send them back.

A message the consumer could not process ends in the inbox's dead-letter
queue with the reason in its ``failure_reason`` attribute. ``DeadLetterQueue``
lists the letters without consuming them (each is held for a short
visibility timeout and released at once) and redrives one to the inbox it
came from. Plain boto3, no Django: the ``dead_letters`` command is its
front end.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

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

    def __init__(self, *, sqs: Any, queue_url: str, inbox_url: str | None) -> None:
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
        if self.inbox_url is None:
            raise ValueError("no inbox to redrive to (EVENT_DELIVERY=kinesis)")
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

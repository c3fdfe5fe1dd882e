"""An SQS queue as Lambda reads it, and the records it hands over.

``ReceiveMessage`` (all attributes, up to 10 messages a call) and
``DeleteMessageBatch``; each message becomes the document Lambda puts in an
SQS event::

    {"messageId": ..., "receiptHandle": ..., "body": ...,
     "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": ...,
                    "SenderId": ..., "ApproximateFirstReceiveTimestamp": ...},
     "messageAttributes": {"name": {"stringValue": ..., "stringListValues": [],
                                    "binaryListValues": [], "dataType": ...}},
     "md5OfBody": ..., "eventSource": "aws:sqs", "eventSourceARN": ...,
     "awsRegion": ...}

Things a learner should notice:

* Lambda, not the handler, deletes a message, and only once the handler
  succeeded with it. A message that failed is simply not deleted: it comes
  back when its visibility timeout ends, and the queue's redrive policy moves
  it to the dead-letter queue after ``maxReceiveCount`` receives. Nothing is
  retried by hand and nothing is lost.
* SQS message attributes arrive in ``ReceiveMessage`` as ``StringValue`` /
  ``BinaryValue`` (bytes); Lambda's event spells them ``stringValue`` /
  ``binaryValue`` (base64).
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from shared_events.event_source_mapping.resolve import RunnableMapping
from shared_events.transport.clients import AwsSettings, client

logger = logging.getLogger(__name__)

MAX_MESSAGES_PER_RECEIVE = 10


class QueueSource:
    """The reads and deletes a runner makes on one queue, for one mapping."""

    def __init__(self, runnable: RunnableMapping, *, aws: AwsSettings) -> None:
        self.runnable = runnable
        self.aws = aws
        self.queue_url = runnable.source.queue_url

    def receive(self, *, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` (at most 10) messages as Lambda records; no waiting."""
        answer = client("sqs", self.aws).receive_message(
            QueueUrl=self.queue_url,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            MaxNumberOfMessages=max(1, min(limit, MAX_MESSAGES_PER_RECEIVE)),
            # The runner polls its sources in turn; a long poll here would hold
            # up every other shard and queue it serves.
            WaitTimeSeconds=0,
        )
        return [self._record(message) for message in answer.get("Messages", [])]

    def delete(self, records: list[dict[str, Any]]) -> int:
        """Delete these messages; return how many SQS refused to delete."""
        refused = 0
        for start in range(0, len(records), MAX_MESSAGES_PER_RECEIVE):
            chunk = records[start : start + MAX_MESSAGES_PER_RECEIVE]
            answer = client("sqs", self.aws).delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                    for index, record in enumerate(chunk)
                ],
            )
            for failure in answer.get("Failed", []):
                # An expired receipt handle: the message is visible again and
                # will be handled again (at least once).
                logger.warning(
                    "%s: could not delete a message: %s",
                    self.runnable.name,
                    failure.get("Message") or failure.get("Code"),
                )
                refused += 1
        return refused

    def event(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return {"Records": records}

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        source = self.runnable.source
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {
                name: lambda_message_attribute(value)
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        record.update(
            eventSource="aws:sqs", eventSourceARN=source.arn, awsRegion=source.region
        )
        return record


def lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """``{"StringValue": .., "DataType": ..}`` -> Lambda's lower-case shape."""
    attribute: dict[str, Any] = {}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = _base64(value["BinaryValue"])
    attribute["stringListValues"] = list(value.get("StringListValues", []))
    attribute["binaryListValues"] = [
        _base64(member) for member in value.get("BinaryListValues", [])
    ]
    attribute["dataType"] = value["DataType"]
    return attribute


def _base64(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")

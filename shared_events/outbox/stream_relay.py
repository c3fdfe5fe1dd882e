"""The stream as the outbox: publish what the DynamoDB event table committed.

Under ``EVENT_STORE=dynamodb`` there are no outbox rows and no relay. Each
commit is one item of the service's event table, and the table's stream
(NEW_IMAGE) hands every new item to a Lambda function
(``<service>.functions.publish_committed``) in AWS's DynamoDB Streams event
shape; ``publish_committed`` is that function's core. The item's ``events``
attribute holds the commit's envelopes in order, exactly as the write side
encoded them (``shared_events.write_side.dynamodb.commits`` defines the item).

What a learner should notice:

* The commit and "this must be published" are one write: the stream record
  exists because the item does. Nothing can commit without being published,
  at least once.
* Order is kept by stopping at the first record whose events were not all
  accepted: its sequence number is the one ``batchItemFailures`` entry
  (ReportBatchItemFailures), and the records after it are not published in
  this invocation. Lambda retries the batch from that record, so a later
  commit of the same aggregate never overtakes an earlier one that failed.
  (Powertools' ``BatchProcessor`` would go on with the later records; the
  records are read with its ``DynamoDBStreamEvent`` data class instead.)
* A retried record may publish some events twice: consumers are idempotent.
* A record that is not a commit's INSERT (an item modified or removed by
  hand) publishes nothing: commits are never changed.
* Before a commit is published, its aggregate's state row is brought up to
  it (``keep_state``, the service's ``state_keepers``). A writer that died
  between its ``PutItem`` and its PostgreSQL commit left the row behind its
  events; the stream is what tells the service, within one poll, instead of
  the aggregate's next command. A row that cannot be kept (PostgreSQL down)
  fails the record like a refused publish: retried, in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from shared_events.events import InvalidEvent, from_json
from shared_events.telemetry.metrics import events_relayed
from shared_events.transport import EventPublisher, OutgoingMessage, outgoing_message

logger = logging.getLogger(__name__)


class NotACommit(ValueError):
    """A stream record whose new image is not a commit item."""


# What brings a committed aggregate's state row up to the commit:
# (aggregate type, aggregate id, the commit's last version).
KeepState = Callable[[str, str, int], None]


def publish_committed(
    event: Mapping[str, Any],
    *,
    publisher: EventPublisher,
    keep_state: KeepState | None = None,
    service: str | None = None,
) -> dict:
    """Publish each committed record's envelopes, in order; the Lambda answer.

    ``event`` is a DynamoDB Streams event as Lambda delivers it. The answer
    names the first record not wholly published, or nothing. With
    ``service``, what the broker accepted and refused is counted as the
    outbox relay's is (``shared_events.telemetry.metrics``).
    """
    for record in DynamoDBStreamEvent(dict(event)).records:
        if record.event_name != DynamoDBRecordEventName.INSERT:
            logger.warning(
                "stream relay: skipping a %s record: commits are only ever inserted",
                record.event_name.name if record.event_name else "nameless",
            )
            continue
        problem = _publish(record, publisher, keep_state, service)
        if problem is not None:
            sequence_number = (
                record.dynamodb.sequence_number if record.dynamodb else None
            )
            logger.warning(
                "stream relay: record %s not published (%s); it and the records "
                "after it are left to the retry",
                sequence_number,
                problem,
            )
            return {"batchItemFailures": [{"itemIdentifier": sequence_number}]}
    return {"batchItemFailures": []}


def _publish(
    record: DynamoDBRecord,
    publisher: EventPublisher,
    keep_state: KeepState | None,
    service: str | None,
) -> str | None:
    """Publish one commit's envelopes; None when all were accepted, else why not."""
    try:
        messages = messages_of(record)
        aggregate = committed_aggregate(record)
    except (InvalidEvent, NotACommit) as error:
        return f"not a valid commit: {error}"
    if keep_state is not None:
        try:
            keep_state(*aggregate)
        except Exception as error:  # the database: retry the record, in order
            logger.exception("stream relay: the state row was not kept")
            return f"state row not kept: {type(error).__name__}: {error}"
    try:
        result = publisher.publish_batch(messages)
    except Exception as error:  # outside the port's contract: retry the record
        logger.exception("stream relay: the publisher raised")
        return f"publisher raised {type(error).__name__}: {error}"
    missing = [m.id for m in messages if m.id not in set(result.accepted)]
    if service is not None:
        events_relayed(
            service=service,
            publisher=publisher,
            published=len(messages) - len(missing),
            failed=len(missing),
        )
    if missing:
        return result.failed.get(missing[0], "not accepted by the broker")
    return None


def committed_aggregate(record: DynamoDBRecord) -> tuple[str, str, int]:
    """The commit's aggregate type and id, and its last version (from its item)."""
    image = record.dynamodb.new_image if record.dynamodb else {}
    try:
        return (
            str(image["aggregate_type"]),
            str(image["aggregate_id"]),
            int(image["last_version"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise NotACommit(f"the new image has no {error}") from error


def messages_of(record: DynamoDBRecord) -> list[OutgoingMessage]:
    """The broker messages of one commit: its envelopes, as the write side encoded
    them (validated again here: a malformed one fails the record, with why)."""
    image = record.dynamodb.new_image if record.dynamodb else {}
    events = image.get("events")
    if not isinstance(events, list) or not events:
        raise NotACommit("the new image has no list of events")
    messages = []
    for body in events:
        if not isinstance(body, str):
            raise NotACommit("an event of the new image is not a string")
        envelope = from_json(body)
        messages.append(
            outgoing_message(
                event_id=str(envelope.event_id),
                body=body,
                aggregate_id=str(envelope.aggregate_id),
                event_type=envelope.event_type,
                aggregate_type=envelope.aggregate_type,
            )
        )
    return messages

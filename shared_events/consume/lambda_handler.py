"""Lambda handlers on the consumer's idempotent core: AWS's events in,
``batchItemFailures`` out.

A service's function module (``<service>/functions/consume_events.py``,
``project_events.py``) is a plain ``handler(event, context)`` that hands its
event to ``process_batch``. What a learner should notice:

* The guarantee is not here. Every event goes through ``apply_event``
  (``tracking``), the core the SQS consumer uses, under the same consumer
  name (``tracking_name``): effect, processed-event record and cursor in one
  transaction. A record delivered twice, or an event the long-running
  consumer already applied, changes nothing; whichever way an event arrives
  (the SQS inbox, a Kinesis stream, a DynamoDB stream), it takes effect once.
* The handler never deletes, retries or gives up on its own: it answers which
  records failed (ReportBatchItemFailures: the SQS message id, the stream
  record's sequence number) and the event source mapping does the rest. SQS
  makes a failed message visible again after its visibility timeout, and the
  queue's redrive policy dead-letters it in the end; a stream mapping retries
  from the lowest failed sequence number, bisects a failing batch, and hands
  what it gives up on to its on-failure destination.
* The outcomes, as the SQS consumer has them: APPLIED and DUPLICATE succeed.
  HELD (an event ahead of its aggregate) depends on the source. From an SQS
  inbox, which delivers in no set order, the event is parked in the
  consumer's database, as the SQS consumer parks it (``held_events``), and
  the record succeeds; once the batch is done, the events parked behind
  those it applied are released, and every invocation sweeps: a gap that
  stood still for ``EVENT_GAP_PATIENCE_SECONDS`` goes to the dead-letter
  queue. (On AWS a schedule would also invoke the sweep when no records
  come; here the next batch does.) From a stream, ordered per aggregate, an
  event ahead is a real gap: the record fails, to come back later. A
  handler's exception or a database outage fails the record. An
  invalid envelope is *poison*, and so is an untrusted one (unsigned, forged,
  changed after signing, from a service that does not own its aggregate): no
  retry can fix it, so it goes to the consumer's dead-letter queue with the
  reason and the record succeeds. Each outcome is counted
  (``consumer_events_total``, ``shared_events.telemetry.metrics``) under the
  tracking name, as the SQS consumer counts its own.
* One handler serves every source. The event says where it comes from
  (``eventSource`` of its records), and aws-lambda-powertools' data classes
  and ``BatchProcessor`` read AWS's shapes, not hand-parsed dictionaries. A
  DynamoDB stream record is one commit of the event table (its INSERT's
  NewImage lists the commit's envelopes, applied in order); MODIFY and REMOVE
  are never commits and are passed over.

It reads Django settings (through ``shared_events.transport.messaging``)
only when invoked, never at import, to find the consumer's dead-letter queue.
"""

from __future__ import annotations

import json
import logging
import threading
from base64 import b64decode
from binascii import Error as Base64Error
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError, close_old_connections

from shared_events.consume.consumer import InfrastructureDown
from shared_events.consume.dead_letter import (
    envelope_text,
    poison_reason,
    read_event,
    send_dead_letter,
)
from shared_events.consume.held_events import DatabaseDown, HeldEvents, dead_letter_to
from shared_events.consume.tracking import (
    Handler,
    Outcome,
    ParkedMessage,
    apply_event,
)
from shared_events.events import InvalidEvent
from shared_events.telemetry.metrics import event_applied, event_handled
from shared_events.transport import AwsSettings, client, messaging
from shared_events.transport.topology import tracking_name

logger = logging.getLogger(__name__)

#: A record's ``eventSource`` -> the kind of batch it belongs to.
SOURCES: Mapping[str, EventType] = {
    "aws:sqs": EventType.SQS,
    "aws:kinesis": EventType.KinesisDataStreams,
    "aws:dynamodb": EventType.DynamoDBStreams,
}


class EventHeld(RuntimeError):
    """The event is ahead of its aggregate: the record fails, to come back later."""


class PoisonWithoutDeadLetterQueue(RuntimeError):
    """Poison, and no dead-letter queue to put it in: the record fails instead,
    and the event source mapping's own failure handling takes it."""


class ReadSideMissing(ImproperlyConfigured):
    """A read-side projector deployed under an approach without read models."""


def source_of(event: Mapping[str, Any]) -> EventType:
    """Which kind of event source mapping sent ``event``: SQS, Kinesis or
    DynamoDB Streams, read from its first record's ``eventSource``."""
    records = event.get("Records") or [{}]
    name = records[0].get("eventSource")
    try:
        return SOURCES[name]
    except KeyError:
        raise ValueError(
            f"not an event from SQS, Kinesis or DynamoDB Streams: eventSource "
            f"{name!r}; expected one of {sorted(SOURCES)}"
        ) from None


def read_side_database() -> str:
    """The read database a projector writes to; ``ReadSideMissing`` where the
    approach keeps no read models."""
    if not settings.APPROACH_HAS_READ_SIDE:
        raise ReadSideMissing(
            f"approach {settings.ARCHITECTURE_APPROACH} has no read side: "
            "project_events runs only under approach 5 (cqrs_es), which keeps "
            "read databases"
        )
    return settings.READ_DATABASE


# --- where a consumer's dead letters go, resolved on first use ---------------------


@dataclass(frozen=True)
class DeadLetterDestination:
    """A consumer's dead-letter queue, as its handler found it."""

    url: str | None
    aws: AwsSettings

    def sqs(self) -> Any:
        return client("sqs", self.aws)


_resolved: dict[tuple, DeadLetterDestination] = {}
_resolved_lock = threading.Lock()


def resolve_dead_letter_queue(
    *, consumer: str, source: EventType
) -> DeadLetterDestination:
    """``consumer``'s dead-letter queue, resolved from the settings at the
    first invocation (not at import: a test or a deploy may set them later),
    then kept per settings for the life of the process.

    An SQS source is the consumer's inbox, whose route names its queue. A
    stream has no inbox: the queue is found by the name the topology gives
    it (``<prefix><consumer>-inbox-dlq``). A queue that does not exist (yet)
    is looked up again on the next invocation.
    """
    aws = messaging.aws_settings()
    topology = messaging.topology()
    key = (consumer, source, aws, repr(topology))
    with _resolved_lock:
        if key in _resolved:
            return _resolved[key]
        if source is EventType.SQS:
            url = messaging.consumer_settings(consumer).dead_letter_queue_url
        else:
            sqs = client("sqs", aws)
            name = topology.dead_letter_queue_name(consumer)
            try:
                url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            except sqs.exceptions.QueueDoesNotExist:
                logger.warning("dead-letter queue %s does not exist", name)
                return DeadLetterDestination(url=None, aws=aws)
        _resolved[key] = DeadLetterDestination(url=url, aws=aws)
        return _resolved[key]


# --- one batch ---------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    """What the dead-letter queue gets if a record's event is poison."""

    body: str
    deduplication_id: str
    attributes: Mapping[str, dict] = field(default_factory=dict)
    group_id: str | None = None


def process_batch(
    event: Mapping[str, Any],
    context: Any = None,
    *,
    consumer: str,
    handlers: Mapping[str, Sequence[Handler]],
    database: str = "default",
) -> dict:
    """Apply each record's events as ``consumer``; the partial batch response.

    ``handlers`` are the event handlers (or projection handlers) by event
    type; ``database`` is where they write and where the consumer's records
    are kept (``default``, or the read database of a projector).
    """
    if not event.get("Records"):
        return {"batchItemFailures": []}
    source = source_of(event)
    dead_letters = resolve_dead_letter_queue(consumer=consumer, source=source)
    batch = _Batch(
        consumer=tracking_name(consumer),
        handlers=handlers,
        database=database,
        dead_letters=dead_letters,
        held=(
            _held_events(
                consumer=consumer, handlers=handlers, database=database, to=dead_letters
            )
            if source is EventType.SQS
            else None
        ),
    )
    # As Django does around a request: drop a connection that broke or
    # outlived CONN_MAX_AGE, since a warm Lambda keeps its process.
    close_old_connections()
    try:
        response = process_partial_response(
            event=dict(event),
            record_handler=batch.record_handler(source),
            # One processor per invocation: it keeps the batch's results.
            # A batch that failed as a whole is still an answer naming each
            # record, never an exception, so the mapping retries only those.
            processor=BatchProcessor(
                event_type=source, raise_on_entire_batch_failure=False
            ),
            context=context,
        )
        batch.release_parked()
        return response
    finally:
        close_old_connections()


def _held_events(
    *,
    consumer: str,
    handlers: Mapping[str, Sequence[Handler]],
    database: str,
    to: DeadLetterDestination,
) -> HeldEvents:
    """The consumer's parked events, with its inbox's patience and receives."""
    inbox = messaging.consumer_settings(consumer)
    return HeldEvents(
        consumer=tracking_name(consumer),
        database=database,
        handlers=handlers,
        gap_patience_seconds=inbox.gap_patience_seconds,
        max_attempts=inbox.max_receive_count,
        dead_letter=dead_letter_to(to.sqs(), to.url) if to.url else None,
    )


class _Batch:
    """The record handlers of one invocation, one per kind of source."""

    def __init__(
        self,
        *,
        consumer: str,
        handlers: Mapping[str, Sequence[Handler]],
        database: str,
        dead_letters: DeadLetterDestination,
        held: HeldEvents | None = None,
    ) -> None:
        self.consumer = consumer
        self.handlers = handlers
        self.database = database
        self.dead_letters = dead_letters
        # An SQS source's parked events; None for a stream, whose order holds.
        self.held = held
        # The aggregates an event was applied to: their parked events are next.
        self.advanced: set[str] = set()
        # Set when a record found the database down: the records after it
        # fail at once instead of each waiting for the same outage.
        self.outage: InfrastructureDown | None = None

    def record_handler(self, source: EventType):
        return {
            EventType.SQS: self.sqs_message,
            EventType.KinesisDataStreams: self.kinesis_record,
            EventType.DynamoDBStreams: self.dynamodb_record,
        }[source]

    def sqs_message(self, record: SQSRecord) -> None:
        letter = Letter(
            body=record.body,
            deduplication_id=record.message_id,
            attributes=sqs_message_attributes(record),
            group_id=record.attributes.message_group_id,
        )
        self.apply(
            sqs_envelope_text(record),
            letter,
            park=ParkedMessage(
                body=letter.body,
                message_id=letter.deduplication_id,
                attributes=letter.attributes,
                group_id=letter.group_id or "",
            ),
        )

    def release_parked(self) -> None:
        """Apply the events parked behind those this batch applied, then sweep.

        The records are answered for already (each parked event committed):
        a database outage here leaves the parked events to the next sweep.
        """
        if self.held is None or self.outage is not None:
            return
        try:
            for aggregate_id in self.held.waiting(self.advanced):
                self.held.release(aggregate_id)
            self.held.sweep()
        except (DatabaseDown, OperationalError, InterfaceError) as error:
            close_old_connections()
            logger.warning("%s: parked events left for later: %s", self.consumer, error)

    def kinesis_record(self, record: KinesisStreamRecord) -> None:
        data = record.kinesis.data_as_bytes()
        try:
            body = data.decode("utf-8")
        except UnicodeDecodeError:
            body = record.kinesis.data  # the record's base64, as it came
        self.apply(data, Letter(body=body, deduplication_id=record_id(record)))

    def dynamodb_record(self, record: DynamoDBRecord) -> None:
        if record.event_name is not DynamoDBRecordEventName.INSERT:
            return  # a commit is only ever inserted; nothing to apply
        sequence_number = record_id(record)
        image = record.dynamodb.new_image
        events = image.get("events")
        if not (isinstance(events, list) and all(isinstance(e, str) for e in events)):
            raw = json.dumps(record.dynamodb.raw_event.get("NewImage", {}))
            self.poison(
                Letter(body=raw, deduplication_id=sequence_number),
                "invalid commit item: 'events' is not a list of envelope strings",
            )
            return
        # In order; the first event that fails fails the record, and the
        # mapping delivers the whole commit again (what applied is then a
        # duplicate).
        for position, text in enumerate(events):
            self.apply(
                text,
                Letter(body=text, deduplication_id=f"{sequence_number}-{position}"),
            )

    def apply(
        self, body: str | bytes, letter: Letter, *, park: ParkedMessage | None = None
    ) -> None:
        """Apply one event through the consumer's core; raise if the record
        fails. With ``park``, an event ahead of its aggregate is parked."""
        if self.outage is not None:
            raise self.outage
        try:
            envelope = read_event(body)
        except InvalidEvent as error:
            # Invalid or untrusted (forged, mismatched): no effect, to the
            # dead-letter queue with the reason.
            self.poison(letter, poison_reason(error))
            return
        try:
            outcome = apply_event(
                consumer=self.consumer,
                envelope=envelope,
                handlers=self.handlers.get(envelope.event_type, ()),
                database=self.database,
                park=park,
            )
        except (OperationalError, InterfaceError) as error:
            # The database, not the event, is at fault: fail the record for a
            # later retry, with a fresh connection then.
            close_old_connections()
            self.outage = InfrastructureDown(f"database unavailable: {error}")
            logger.warning("%s: %s", self.consumer, self.outage)
            raise self.outage from error
        except Exception:
            logger.exception(
                "%s: handler failed for %s %s",
                self.consumer,
                envelope.event_type,
                envelope.event_id,
            )
            # The record fails; its event source mapping hands it over again.
            event_handled(consumer=self.consumer, outcome=Outcome.RETRY.value)
            raise
        event_handled(consumer=self.consumer, outcome=outcome.value)
        if outcome is Outcome.APPLIED:
            event_applied(consumer=self.consumer, occurred_at=envelope.occurred_at)
            self.advanced.add(envelope.aggregate_id)
        if outcome is Outcome.HELD and park is not None:
            logger.info(
                "%s: %s %s parked: version %d is ahead of its aggregate",
                self.consumer,
                envelope.event_type,
                envelope.event_id,
                envelope.aggregate_version,
            )
        elif outcome is Outcome.HELD:
            logger.info(
                "%s: %s %s held: version %d is ahead of its aggregate",
                self.consumer,
                envelope.event_type,
                envelope.event_id,
                envelope.aggregate_version,
            )
            raise EventHeld(
                f"{envelope.event_type} {envelope.event_id}: version "
                f"{envelope.aggregate_version} is ahead of its aggregate"
            )

    def poison(self, letter: Letter, reason: str) -> None:
        """Dead-letter a body no retry can fix; the record then succeeds."""
        if self.dead_letters.url is None:
            logger.error(
                "%s: poison and no dead-letter queue: %s", self.consumer, reason
            )
            event_handled(consumer=self.consumer, outcome=Outcome.RETRY.value)
            raise PoisonWithoutDeadLetterQueue(reason)
        send_dead_letter(
            self.dead_letters.sqs(),
            queue_url=self.dead_letters.url,
            body=letter.body,
            reason=reason,
            deduplication_id=letter.deduplication_id,
            attributes=letter.attributes,
            group_id=letter.group_id,
        )
        event_handled(consumer=self.consumer, outcome=Outcome.DEAD_LETTERED.value)
        logger.error(
            "%s: record %s dead-lettered: %s",
            self.consumer,
            letter.deduplication_id,
            reason,
        )


# --- reading AWS's records -----------------------------------------------------------


def record_id(record: SQSRecord | KinesisStreamRecord | DynamoDBRecord) -> str:
    """What a partial batch response names a record by: the SQS message id,
    or the stream record's sequence number."""
    if isinstance(record, SQSRecord):
        return record.message_id
    if isinstance(record, KinesisStreamRecord):
        return record.kinesis.sequence_number
    return record.dynamodb.sequence_number


def sqs_envelope_text(record: SQSRecord) -> str:
    """The envelope an SQS record carries (``envelope_text`` of its body)."""
    return envelope_text(record.body)


def sqs_message_attributes(record: SQSRecord) -> dict[str, dict]:
    """The message's attributes in SendMessage's shape (Lambda's event spells
    them ``stringValue``/``dataType``; SQS wants ``StringValue``/``DataType``)."""
    attributes = {}
    for name, attribute in record.message_attributes.items():
        data_type = attribute.get("dataType") or "String"
        if attribute.get("stringValue") is not None:
            attributes[name] = {
                "DataType": data_type,
                "StringValue": attribute["stringValue"],
            }
        elif attribute.get("binaryValue") is not None:
            try:
                value = b64decode(attribute["binaryValue"], validate=True)
            except Base64Error:
                continue  # not AWS's shape: leave it out rather than lose the letter
            attributes[name] = {"DataType": data_type, "BinaryValue": value}
    return attributes

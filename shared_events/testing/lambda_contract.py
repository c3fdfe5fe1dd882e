"""The contract every Lambda handler of the platform keeps, written once.

Each service's tests subclass :class:`LambdaHandlerContract` once per
function module (``consume_events``, ``project_events``), say which consumer
it runs as, tell a short story of one aggregate (``story``) and what the
story's first events leave behind (``effect``, ``expected_effect``). The
module's real ``handler`` is then fed AWS's recorded event documents
(``shared_events.testing.aws_events``) of every shape: an SQS message, the
same wrapped in an SNS notification, a Kinesis record and a DynamoDB Streams
record of the event table. Against real PostgreSQL and a real moto server,
what a learner should see proven for each shape:

* a recorded event takes effect, recorded under the SQS consumer's name,
  and the answer is ``{"batchItemFailures": []}``;
* a redelivered record changes nothing;
* an event ahead of its aggregate applies once the missing one came: from
  an SQS inbox (no set order) it is parked in the consumer's database and
  its record succeeds; from a stream (ordered) its record fails, named by
  the id AWS knows it by (the sequence number); a parked event whose gap
  stood still for the patience goes to the dead-letter queue as it came;
* poison (no envelope, or an aggregate id that is no UUID) goes to the
  consumer's dead-letter queue with the reason, is no failure, and the rest
  of the batch is applied;
* a handler's exception fails exactly its record; a database error fails
  its record and the ones after it, never the ones before;
* a forged or mismatched event has no effect and goes to the dead-letter
  queue with its reason, whether it comes through the handler or the
  consumer's own queue (``forged_events_contract``).

Every body is signed by its producer's real key (``signing.signed``), as the
platform's producers sign what they publish: an unsigned one is refused.
"""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any, ClassVar

import pytest
from django.db import OperationalError

from shared_events.consume.lambda_handler import tracking_name
from shared_events.events import EventEnvelope, EventType, to_dict
from shared_events.models import HeldEvent, ProcessedEvent
from shared_events.testing.aws_events import (
    DYNAMODB_STREAM,
    KINESIS,
    SHAPES,
    SQS,
    SQS_SNS_WRAPPED,
    aws_event,
    failures,
    item_identifiers,
)
from shared_events.testing.forged_events_contract import ForgedEventsContract
from shared_events.testing.signing import signed, signed_json
from shared_events.transport import client, messaging
from shared_events.transport.dead_letters import FAILURE_REASON

NOT_AN_EVENT = "this is not an event"
#: The shapes an SQS inbox delivers: in no set order, so early events park.
INBOX_SHAPES = (SQS, SQS_SNS_WRAPPED)


def with_aggregate_id(envelope: EventEnvelope, aggregate_id: str) -> str:
    """The envelope's JSON with another aggregate id, signed: what a buggy
    producer sends."""
    return signed_json({**to_dict(envelope), "aggregate_id": aggregate_id})


class LambdaHandlerContract(ForgedEventsContract):
    """One function module's handler, fed AWS's event documents of every shape."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Transactional: the handler commits, as in production, and closes
        # old connections around each invocation, as Django does around a
        # request. A read side's projector writes its read database too.
        cls.pytestmark = [
            pytest.mark.django_db(
                transaction=True, databases=sorted({"default", cls.database})
            )
        ]

    #: The function module, e.g. ``"order_service.functions.consume_events"``.
    function: ClassVar[str]
    #: The topology's consumer it runs as: ``order``, ``customer-read`` ...
    consumer: ClassVar[str]
    #: Where it applies events and keeps its records: ``default`` or ``read``.
    database: ClassVar[str] = "default"
    #: The service's wiring module (``current``, ``overridden``) and the field
    #: of the wiring that holds the module's handlers.
    service_wiring: ClassVar[ModuleType]
    handlers_field: ClassVar[str] = "event_handlers"

    # --- what each subclass says ---------------------------------------------------

    def story(self) -> list[EventEnvelope]:
        """The events of one new aggregate, versions 1, 2, ... (two at least)."""
        raise NotImplementedError

    def effect(self, story: Sequence[EventEnvelope]) -> Any:
        """What the handlers have made of ``story`` so far (comparable)."""
        raise NotImplementedError

    def expected_effect(self, story: Sequence[EventEnvelope], applied: int) -> Any:
        """``effect`` once the first ``applied`` events of ``story`` took effect."""
        raise NotImplementedError

    @pytest.fixture(autouse=True)
    def wired(self) -> None:
        """The service wired as its function module will find it (override to
        wire another approach than the test run's, e.g. event sourcing)."""

    # --- the local AWS ---------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def aws(self, class_moto_server, settings) -> Iterator[None]:
        """The settings pointed at moto, under a topology prefix of the test's own,
        with the topology (inboxes and dead-letter queues) in place."""
        moto = class_moto_server  # the stack.moto_fixtures plugin's
        settings.AWS_ENDPOINT_URL = moto.endpoint_url
        settings.EVENT_TOPOLOGY_PREFIX = f"lh-{uuid.uuid4().hex[:8]}-"
        settings.EVENT_DELIVERY = "sns"
        settings.EVENT_FIFO = False
        messaging.bootstrap_topology()
        yield
        moto.reset()  # moto slows down as its queues grow

    @pytest.fixture(params=SHAPES)
    def shape(self, request) -> str:
        return request.param

    # --- helpers ---------------------------------------------------------------------

    def handler(self, event: dict) -> dict:
        module = importlib.import_module(self.function)
        return module.handler(event, None)

    def invoke(self, shape: str, *records: str | Sequence[str]) -> tuple[dict, dict]:
        """AWS's document of ``shape`` with ``records``, and the handler's answer."""
        event = aws_event(shape, records)
        return event, self.handler(event)

    def processed(self, story: Sequence[EventEnvelope]) -> list[uuid.UUID]:
        """The ids of ``story``'s events recorded as processed, in version order."""
        return list(
            ProcessedEvent.objects.using(self.database)
            .filter(
                consumer=tracking_name(self.consumer),
                event_id__in=[envelope.event_id for envelope in story],
            )
            .order_by("aggregate_version")
            .values_list("event_id", flat=True)
        )

    def parked(self) -> list[uuid.UUID]:
        """The ids of the consumer's parked events, in version order."""
        return list(
            HeldEvent.objects.using(self.database)
            .filter(consumer=tracking_name(self.consumer))
            .order_by("aggregate_version")
            .values_list("event_id", flat=True)
        )

    def assert_applied(self, story: Sequence[EventEnvelope], applied: int) -> None:
        assert self.effect(story) == self.expected_effect(story, applied)
        assert self.processed(story) == [e.event_id for e in story[:applied]]

    def take_dead_letters(self, *, expected: int, timeout: float = 10.0) -> list[dict]:
        """Receive and delete ``expected`` messages of the consumer's dead-letter
        queue (fewer if they do not come within ``timeout``)."""
        aws = messaging.aws_settings()
        sqs = client("sqs", aws)
        name = messaging.topology().dead_letter_queue_name(self.consumer)
        queue_url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        letters: list[dict] = []
        deadline = time.monotonic() + timeout
        while len(letters) < expected and time.monotonic() < deadline:
            for message in sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                MessageAttributeNames=["All"],
            ).get("Messages", []):
                sqs.delete_message(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
                letters.append(message)
        return letters

    def dead_letter_count(self) -> int:
        """Messages in the consumer's dead-letter queue (moto counts at once)."""
        sqs = client("sqs", messaging.aws_settings())
        name = messaging.topology().dead_letter_queue_name(self.consumer)
        attributes = sqs.get_queue_attributes(
            QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"],
            AttributeNames=["ApproximateNumberOfMessages"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def with_broken_handler(self, broken) -> Any:
        """The wiring with ``broken`` run after the real handlers of every
        event type of the catalog (a consumer may have none of its own)."""
        handlers = getattr(self.service_wiring.current(), self.handlers_field)
        return self.service_wiring.overridden(
            **{
                self.handlers_field: {
                    event_type: [*handlers.get(event_type, ()), broken]
                    for event_type in EventType
                }
            }
        )

    # --- the contract ----------------------------------------------------------------

    def test_the_story_and_its_consumer_fit_the_contract(self):
        story = self.story()
        assert len(story) >= 2
        assert len({envelope.aggregate_id for envelope in story}) == 1
        assert [e.aggregate_version for e in story] == list(range(1, len(story) + 1))
        # The Lambda records events under the SQS consumer's name: one cursor
        # per aggregate, whichever of them applies an event.
        assert messaging.consumer_settings(self.consumer).name == tracking_name(
            self.consumer
        )

    def test_a_recorded_event_takes_effect(self, shape):
        story = self.story()
        self.assert_applied(story, 0)

        event, response = self.invoke(shape, signed(story[0]))

        assert response == failures()
        self.assert_applied(story, 1)

        event, response = self.invoke(shape, *[signed(e) for e in story[1:]])

        assert response == failures()
        self.assert_applied(story, len(story))

    def test_a_redelivered_record_changes_nothing(self, shape):
        story = self.story()
        event, response = self.invoke(shape, signed(story[0]))
        assert response == failures()
        after_first = self.effect(story)

        # The same document again, as a mapping redelivers it, and the same
        # body twice in one batch, as a producer's retry sends it.
        assert self.handler(event) == failures()
        assert self.invoke(shape, signed(story[0]), signed(story[0]))[1] == failures()

        assert self.effect(story) == after_first
        self.assert_applied(story, 1)

    def test_an_event_ahead_of_its_aggregate_applies_once_the_gap_closes(self, shape):
        story = self.story()
        *before, missing, last = story

        event, response = self.invoke(shape, *[signed(e) for e in [*before, last]])

        self.assert_applied(story, len(before))
        if shape in INBOX_SHAPES:
            # Parked, its message done with: received once, however long
            # the gap stays open.
            assert response == failures()
            assert self.parked() == [last.event_id]
            event, response = self.invoke(shape, signed(missing))
        else:
            assert response == failures(item_identifiers(event)[-1])
            assert self.parked() == []
            event, response = self.invoke(shape, signed(missing), signed(last))

        assert response == failures()
        self.assert_applied(story, len(story))
        assert self.parked() == []

    @pytest.fixture(params=INBOX_SHAPES)
    def inbox_shape(self, request) -> str:
        return request.param

    def test_a_parked_event_whose_gap_stood_still_is_dead_lettered_as_it_came(
        self, inbox_shape, settings
    ):
        settings.EVENT_GAP_PATIENCE_SECONDS = 0  # given up at the first sweep
        story = self.story()
        *before, _lost, last = story
        if before:
            assert self.invoke(inbox_shape, *[signed(e) for e in before])[1] == (
                failures()
            )

        event, response = self.invoke(inbox_shape, signed(last))

        assert response == failures()
        [letter] = self.take_dead_letters(expected=1)
        assert letter["Body"] == event["Records"][0]["body"]
        reason = letter["MessageAttributes"][FAILURE_REASON]["StringValue"]
        assert reason.endswith(
            f"version gap never closed (version {last.aggregate_version})"
        )
        assert self.parked() == []
        self.assert_applied(story, len(before))

    def test_poison_goes_to_the_dead_letter_queue_and_the_rest_is_applied(self, shape):
        story = self.story()
        not_a_uuid = with_aggregate_id(story[0], "customer-42")

        event, response = self.invoke(shape, NOT_AN_EVENT, not_a_uuid, signed(story[0]))

        assert response == failures()
        self.assert_applied(story, 1)
        letters = self.take_dead_letters(expected=2)
        reasons = {
            letter["Body"]: letter["MessageAttributes"][FAILURE_REASON]["StringValue"]
            for letter in letters
        }
        # The body as the record delivered it: an SQS message's body (an SNS
        # notification included), a stream record's envelope text.
        delivered = (
            [record["body"] for record in event["Records"][:2]]
            if shape in (SQS, SQS_SNS_WRAPPED)
            else [NOT_AN_EVENT, not_a_uuid]
        )
        assert set(reasons) == set(delivered)
        assert reasons[delivered[0]].startswith("invalid event: ")
        assert reasons[delivered[1]] == (
            "invalid event: aggregate_id: 'customer-42' is not a UUID"
        )
        if shape == SQS:
            # The message's own attributes go with it, as the SQS consumer's do.
            [letter] = [letter for letter in letters if letter["Body"] == not_a_uuid]
            assert letter["MessageAttributes"]["event_type"]["StringValue"] == (
                story[0].event_type
            )

    def test_a_handler_exception_fails_exactly_its_record(self, shape):
        good, bad, after = self.story(), self.story(), self.story()

        def broken(envelope: EventEnvelope) -> None:
            if envelope.aggregate_id == bad[0].aggregate_id:
                raise RuntimeError("the handler has a bug")

        with self.with_broken_handler(broken):
            event, response = self.invoke(
                shape, signed(good[0]), signed(bad[0]), signed(after[0])
            )

        assert response == failures(item_identifiers(event)[1])
        self.assert_applied(good, 1)
        self.assert_applied(bad, 0)  # rolled back with its processed-event record
        self.assert_applied(after, 1)
        assert self.dead_letter_count() == 0

    def test_a_database_error_fails_its_record_and_those_after_it(self, shape):
        good, bad, after = self.story(), self.story(), self.story()

        def database_gone(envelope: EventEnvelope) -> None:
            # What a lost connection raises inside the transaction.
            if envelope.aggregate_id == bad[0].aggregate_id:
                raise OperationalError("server closed the connection unexpectedly")

        with self.with_broken_handler(database_gone):
            event, response = self.invoke(
                shape, signed(good[0]), signed(bad[0]), signed(after[0])
            )

        # Not the event's fault: no dead letter; the records after it are not
        # even tried against a database that is down.
        assert response == failures(*item_identifiers(event)[1:])
        self.assert_applied(good, 1)
        self.assert_applied(bad, 0)
        self.assert_applied(after, 0)
        assert self.dead_letter_count() == 0

    def test_a_commit_of_several_events_is_applied_in_order(self):
        story = self.story()

        event, response = self.invoke(DYNAMODB_STREAM, [signed(e) for e in story])

        assert response == failures()
        self.assert_applied(story, len(story))

    def test_a_commit_fails_as_a_whole_when_one_of_its_events_fails(self):
        story = self.story()
        *before, missing, last = story

        event, response = self.invoke(
            DYNAMODB_STREAM, [signed(e) for e in [*before, last]]
        )

        assert response == failures(*item_identifiers(event))
        self.assert_applied(story, len(before))  # each event is its own transaction

        assert self.invoke(DYNAMODB_STREAM, [signed(missing)])[1] == failures()
        # The mapping's retry delivers the whole commit again: what applied
        # the first time is a duplicate now.
        assert self.handler(event) == failures()
        self.assert_applied(story, len(story))

    def test_stream_records_other_than_inserts_are_passed_over(self):
        story = self.story()
        event = aws_event(DYNAMODB_STREAM, [signed(story[0]), signed(story[0])])
        modify, remove = event["Records"]
        modify["eventName"] = "MODIFY"
        modify["dynamodb"]["OldImage"] = modify["dynamodb"]["NewImage"]
        remove["eventName"] = "REMOVE"
        remove["dynamodb"]["OldImage"] = remove["dynamodb"].pop("NewImage")

        assert self.handler(event) == failures()
        self.assert_applied(story, 0)

    def test_poison_without_a_dead_letter_queue_fails_its_record(self):
        story = self.story()
        sqs = client("sqs", messaging.aws_settings())
        name = messaging.topology().dead_letter_queue_name(self.consumer)
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])

        event, response = self.invoke(KINESIS, NOT_AN_EVENT, signed(story[0]))

        # The stream mapping's retries and on-failure destination take it.
        assert response == failures(item_identifiers(event)[0])
        self.assert_applied(story, 1)

"""The recorded AWS event documents, and how a handler tells them apart.

The samples in ``aws_events/`` are AWS's documented shapes; the services'
Lambda handler tests (``shared_events.testing.lambda_contract``) fill them in.
Here, without a database or a broker: aws-lambda-powertools' data classes
read what the samples and their filled-in copies carry, the way the handler
does, so a sample that drifts from AWS's shape fails here first.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

import pytest
from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes import (
    DynamoDBStreamEvent,
    KinesisStreamEvent,
    SQSEvent,
)

from shared_events.consume.lambda_handler import (
    process_batch,
    source_of,
    sqs_envelope_text,
    sqs_message_attributes,
)
from shared_events.events import encode, from_json
from shared_events.testing import projection_events as event
from shared_events.testing.aws_events import (
    DYNAMODB_STREAM,
    KINESIS,
    SHAPES,
    SQS,
    SQS_SNS_WRAPPED,
    aws_event,
    item_identifiers,
    recorded,
)


@pytest.fixture
def envelope():
    return event.registered(uuid.uuid4())


@pytest.mark.parametrize(
    ("shape", "source"),
    [
        (SQS, EventType.SQS),
        (SQS_SNS_WRAPPED, EventType.SQS),
        (KINESIS, EventType.KinesisDataStreams),
        (DYNAMODB_STREAM, EventType.DynamoDBStreams),
    ],
)
def test_the_source_is_read_from_the_event(shape, source):
    assert source_of(recorded(shape)) is source


def test_an_event_from_another_source_is_refused():
    with pytest.raises(ValueError, match="eventSource 'aws:s3'"):
        source_of({"Records": [{"eventSource": "aws:s3"}]})


def test_an_empty_batch_is_answered_without_looking_anything_up():
    # No settings, no AWS, no database: nothing to apply, nothing failed.
    assert process_batch({"Records": []}, consumer="order", handlers={}) == {
        "batchItemFailures": []
    }


def test_an_sqs_message_carries_the_envelope_as_its_body(envelope):
    body = encode(envelope)
    [record] = SQSEvent(aws_event(SQS, [body])).records

    assert record.body == body
    assert record.md5_of_body == hashlib.md5(body.encode()).hexdigest()
    assert sqs_envelope_text(record) == body
    assert from_json(sqs_envelope_text(record)) == envelope
    # In SendMessage's shape, for a dead letter to keep them.
    assert sqs_message_attributes(record) == {
        "event_type": {"DataType": "String", "StringValue": envelope.event_type},
        "aggregate_type": {
            "DataType": "String",
            "StringValue": envelope.aggregate_type,
        },
    }


def test_an_sns_notification_is_unwrapped(envelope):
    body = encode(envelope)
    [record] = SQSEvent(aws_event(SQS_SNS_WRAPPED, [body])).records

    notification = json.loads(record.body)
    assert notification["Type"] == "Notification"
    assert notification["Message"] == body
    assert sqs_envelope_text(record) == body


def test_a_body_that_is_no_json_is_passed_on_as_it_is():
    [record] = SQSEvent(aws_event(SQS, ["not json"])).records

    assert sqs_envelope_text(record) == "not json"


def test_a_kinesis_record_carries_the_envelope_base64_encoded(envelope):
    body = encode(envelope)
    document = aws_event(KINESIS, [body, body])
    first, second = KinesisStreamEvent(document).records

    assert first.kinesis.data_as_text() == body
    assert base64.b64decode(first.kinesis.data).decode() == body
    assert first.kinesis.partition_key == envelope.aggregate_id
    assert first.event_id.endswith(f":{first.kinesis.sequence_number}")
    assert int(second.kinesis.sequence_number) > int(first.kinesis.sequence_number)
    assert item_identifiers(document) == [
        first.kinesis.sequence_number,
        second.kinesis.sequence_number,
    ]


def test_a_dynamodb_stream_record_is_one_commit_item(envelope):
    renamed = event.renamed(uuid.UUID(envelope.aggregate_id), "Ada King", version=2)
    bodies = [encode(envelope), encode(renamed)]
    [record] = DynamoDBStreamEvent(aws_event(DYNAMODB_STREAM, [bodies])).records

    assert record.event_name.name == "INSERT"
    assert record.dynamodb.stream_view_type.name == "NEW_IMAGE"
    image = record.dynamodb.new_image
    assert image["events"] == bodies
    assert (image["aggregate_id"], image["version"], image["last_version"]) == (
        envelope.aggregate_id,
        1,
        2,
    )
    assert record.dynamodb.keys == {
        "aggregate_id": envelope.aggregate_id,
        "version": 1,
    }


@pytest.mark.parametrize("shape", SHAPES)
def test_every_sample_keeps_the_shape_aws_documents(shape):
    [record] = recorded(shape)["Records"]
    expected = {
        SQS: {"messageId", "receiptHandle", "body", "attributes", "md5OfBody"},
        SQS_SNS_WRAPPED: {"messageId", "receiptHandle", "body", "md5OfBody"},
        KINESIS: {"kinesis", "eventID", "eventName", "invokeIdentityArn"},
        DYNAMODB_STREAM: {"dynamodb", "eventID", "eventName", "eventVersion"},
    }[shape]
    assert expected <= set(record)
    assert {"eventSource", "eventSourceARN", "awsRegion"} <= set(record)

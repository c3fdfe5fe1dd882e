"""The events a handler receives have AWS's shapes, built from what moto returns."""

from __future__ import annotations

import base64
import hashlib

from shared_events.event_source_mapping import LambdaContext
from shared_events.event_source_mapping.tests import support
from shared_events.transport.clients import client


def test_a_kinesis_record_has_lambdas_shape(aws, tmp_path):
    support.create_stream(aws)
    (sequence_number,) = support.put_records(aws, ["héllo"])
    recorder = support.Recorder()

    support.runner(aws, tmp_path, (support.stream_mapping(), recorder)).run(
        until_idle=True
    )

    (event,) = recorder.events
    (record,) = event["Records"]
    stream_arn = client("kinesis", aws).describe_stream_summary(
        StreamName=support.STREAM
    )["StreamDescriptionSummary"]["StreamARN"]
    kinesis = record.pop("kinesis")
    assert kinesis.pop("kinesisSchemaVersion") == "1.0"
    assert kinesis.pop("partitionKey") == "key-0"
    assert kinesis.pop("sequenceNumber") == sequence_number
    assert base64.b64decode(kinesis.pop("data")).decode() == "héllo"
    assert isinstance(kinesis.pop("approximateArrivalTimestamp"), float)
    assert kinesis == {}
    assert record == {
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/er-kinesis-role",
        "awsRegion": "us-east-1",
        "eventSourceARN": stream_arn,
    }


def test_a_dynamodb_stream_record_has_lambdas_shape_and_wire_values(aws, tmp_path):
    support.create_table(aws)
    client("dynamodb", aws).put_item(
        TableName=support.TABLE,
        Item={
            "aggregate_id": {"S": "a-1"},
            "version": {"N": "1"},
            "events": {"L": [{"S": '{"n": 1}'}, {"N": "2.5"}]},
            "blob": {"B": b"\x00\x01"},
            "blobs": {"BS": [b"\xff"]},
            "nested": {"M": {"flag": {"BOOL": True}, "none": {"NULL": True}}},
        },
    )
    recorder = support.Recorder()
    mapping = support.stream_mapping(
        name="er-ddb", source_kind="DYNAMODB_STREAM", source_name=support.TABLE
    )

    support.runner(aws, tmp_path, (mapping, recorder)).run(until_idle=True)

    (event,) = recorder.events
    (record,) = event["Records"]
    stream_arn = client("dynamodb", aws).describe_table(TableName=support.TABLE)[
        "Table"
    ]["LatestStreamArn"]
    change = record.pop("dynamodb")
    assert isinstance(record.pop("eventID"), str)
    assert record == {
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": stream_arn,
    }
    created = change.pop("ApproximateCreationDateTime")
    assert isinstance(created, int) and created > 1_600_000_000
    assert int(change.pop("SequenceNumber")) > 0
    assert change.pop("SizeBytes") > 0
    assert change == {
        "Keys": {"aggregate_id": {"S": "a-1"}, "version": {"N": "1"}},
        "NewImage": {
            "aggregate_id": {"S": "a-1"},
            "version": {"N": "1"},
            "events": {"L": [{"S": '{"n": 1}'}, {"N": "2.5"}]},
            "blob": {"B": base64.b64encode(b"\x00\x01").decode()},
            "blobs": {"BS": [base64.b64encode(b"\xff").decode()]},
            "nested": {"M": {"flag": {"BOOL": True}, "none": {"NULL": True}}},
        },
        "StreamViewType": "NEW_IMAGE",
    }


def test_an_sqs_record_has_lambdas_shape(aws, tmp_path):
    queue_url = support.create_queue(aws)
    client("sqs", aws).send_message(
        QueueUrl=queue_url,
        MessageBody='{"event_type": "CustomerRenamed"}',
        MessageAttributes={
            "event_type": {"DataType": "String", "StringValue": "CustomerRenamed"},
            "signature": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
        },
    )
    recorder = support.Recorder()

    support.runner(aws, tmp_path, (support.queue_mapping(), recorder)).run(
        until_idle=True
    )

    (event,) = recorder.events
    (record,) = event["Records"]
    assert isinstance(record.pop("messageId"), str)
    assert isinstance(record.pop("receiptHandle"), str)
    assert isinstance(record.pop("md5OfMessageAttributes"), str)
    attributes = record.pop("attributes")
    assert attributes["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
        attributes
    )
    assert record == {
        "body": '{"event_type": "CustomerRenamed"}',
        "messageAttributes": {
            "event_type": {
                "stringValue": "CustomerRenamed",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            },
            "signature": {
                "binaryValue": base64.b64encode(b"\x01\x02").decode(),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "Binary",
            },
        },
        "md5OfBody": hashlib.md5(b'{"event_type": "CustomerRenamed"}').hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:er-inbox",
        "awsRegion": "us-east-1",
    }


def test_a_fifo_record_carries_its_message_group(aws, tmp_path):
    sqs = client("sqs", aws)
    queue_url = sqs.create_queue(
        QueueName="er-inbox.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="{}", MessageGroupId="agg-7")
    recorder = support.Recorder()
    mapping = support.queue_mapping(source_name="er-inbox.fifo")

    support.runner(aws, tmp_path, (mapping, recorder)).run(until_idle=True)

    (record,) = recorder.events[0]["Records"]
    assert record["attributes"]["MessageGroupId"] == "agg-7"
    assert "MessageDeduplicationId" in record["attributes"]


def test_the_context_looks_like_lambdas(aws, tmp_path):
    client("sqs", aws).send_message(
        QueueUrl=support.create_queue(aws), MessageBody="{}"
    )
    recorder = support.Recorder()

    support.runner(aws, tmp_path, (support.queue_mapping(), recorder)).run(
        until_idle=True
    )

    (context,) = recorder.contexts
    assert isinstance(context, LambdaContext)
    assert context.function_name == "er-sqs"
    assert (
        context.invoked_function_arn
        == "arn:aws:lambda:us-east-1:123456789012:function:er-sqs"
    )
    assert 0 < context.get_remaining_time_in_millis() <= 60_000
    assert len(context.aws_request_id) == 36

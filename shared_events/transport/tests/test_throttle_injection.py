"""Throttling answers injected into the AWS clients (``FAULT_INJECTION=throttle_aws``).

moto never throttles; the hook makes a client answer as AWS does when a
shard or a table is over its limits, without sending the request. Checked on
a real moto server over HTTP: the throttled call raises AWS's error and
changed nothing on the server, the calls not named go through.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from shared_events.transport import messaging
from shared_events.transport.clients import AwsSettings, client
from shared_events.transport.kinesis_publisher import KinesisPublisher
from shared_events.transport.tests.support import envelope_message, stream_records
from shared_events.transport.throttle_injection import InjectedThrottle

THROTTLED = "ProvisionedThroughputExceededException"
TABLE = "tt-throttle-table"
STREAM = "tt-throttle-stream"


def throttled(aws: AwsSettings, spec: str) -> AwsSettings:
    return AwsSettings(
        endpoint_url=aws.endpoint_url, throttle=InjectedThrottle.from_setting(spec)
    )


# The setting ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["", "crash_before_publish", "broker_refuses:CustomerDeleted"]
)
def test_other_faults_ask_for_no_throttle(value):
    assert InjectedThrottle.from_setting(value) is None


def test_the_operations_and_the_rate_are_read_from_the_setting():
    every = InjectedThrottle.from_setting("throttle_aws:PutRecords, PutItem")
    share = InjectedThrottle.from_setting("throttle_aws:PutItem@0.25")

    assert every == InjectedThrottle(frozenset({"PutRecords", "PutItem"}), rate=1.0)
    assert share == InjectedThrottle(frozenset({"PutItem"}), rate=0.25)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("throttle_aws", "needs the operations"),
        ("throttle_aws:@0.5", "needs the operations"),
        ("throttle_aws:put_item", "not an AWS operation name"),
        ("throttle_aws:PutItem@often", "must be a number"),
        ("throttle_aws:PutItem@0", r"in \(0, 1\]"),
        ("throttle_aws:PutItem@1.5", r"in \(0, 1\]"),
    ],
)
def test_a_malformed_throttle_is_refused_with_the_reason(value, reason):
    with pytest.raises(ValueError, match=reason):
        InjectedThrottle.from_setting(value)


def test_the_services_aws_settings_carry_the_throttle_of_the_setting(settings):
    settings.FAULT_INJECTION = "throttle_aws:PutRecords@0.1"
    assert messaging.aws_settings().throttle == InjectedThrottle(
        frozenset({"PutRecords"}), rate=0.1
    )
    settings.FAULT_INJECTION = "crash_before_publish"
    assert messaging.aws_settings().throttle is None


# On the wire ------------------------------------------------------------------------


def test_a_throttled_put_item_raises_awss_error_and_writes_nothing(aws):
    plain = client("dynamodb", aws)
    plain.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    dynamodb = client("dynamodb", throttled(aws, "throttle_aws:PutItem,PutRecords"))

    with pytest.raises(ClientError) as raised:
        dynamodb.put_item(TableName=TABLE, Item={"id": {"S": "a"}})

    error = raised.value.response
    assert error["Error"]["Code"] == THROTTLED
    assert "injected" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    # The request never left the client: the item is not there.
    assert "Item" not in plain.get_item(TableName=TABLE, Key={"id": {"S": "a"}})
    # Operations not named go through on the same client.
    assert dynamodb.describe_table(TableName=TABLE)["Table"]["TableName"] == TABLE


def test_a_throttled_put_records_fails_every_record_and_none_is_on_the_stream(aws):
    kinesis = client("kinesis", aws)
    kinesis.create_stream(StreamName=STREAM, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=STREAM)
    publisher = KinesisPublisher(STREAM, throttled(aws, "throttle_aws:PutRecords"))
    messages = [envelope_message(aggregate_id=f"a{n}") for n in range(3)]

    result = publisher.publish_batch(messages)

    assert result.accepted == []
    assert set(result.failed) == {message.id for message in messages}
    assert all(THROTTLED in reason for reason in result.failed.values())
    assert stream_records(kinesis, STREAM) == []


def test_a_rate_throttles_about_that_share_of_the_calls(aws):
    sqs = client("sqs", throttled(aws, "throttle_aws:ListQueues@0.5"))
    outcomes = []
    for _ in range(200):
        try:
            sqs.list_queues()
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])
        else:
            outcomes.append("ok")

    # Binomial(200, 0.5): outside 60-140 with a probability below 1e-8.
    assert 60 <= outcomes.count("RequestThrottled") <= 140
    assert set(outcomes) == {"ok", "RequestThrottled"}

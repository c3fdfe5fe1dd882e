"""What the runner's tests share: sources on moto, recording handlers, runners."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared_events.event_source_mapping import (
    EventSourceMapping,
    MappingRunner,
    RunnableMapping,
    SourceKind,
    resolve_mapping,
)
from shared_events.transport.clients import AwsSettings, client

#: Two shards split the hash key space in half: these keys pick one each.
SHARD_HASH_KEYS = {0: "0", 1: str(2**127 + 1)}
STREAM = "er-events"
TABLE = "er-customer-events-store"
QUEUE = "er-inbox"
FAILURE_QUEUE = "er-inbox-dlq"


@dataclass
class Recorder:
    """A handler that remembers each event it got, and fails on request.

    ``raise_on`` makes it raise when a batch holds one of these identifiers;
    ``report`` makes it answer these identifiers as ``batchItemFailures``
    (``report_always`` keeps reporting them on every retry; otherwise only the
    first time).
    """

    raise_on: set[str] = field(default_factory=set)
    report: list[Any] = field(default_factory=list)
    report_always: bool = False
    answer: Any = None
    sleep_seconds: float = 0.0
    events: list[dict[str, Any]] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(json.loads(json.dumps(event)))  # JSON, as Lambda's is
        self.contexts.append(context)
        if self.sleep_seconds:
            time.sleep(self.sleep_seconds)
        ids = identifiers(event)
        if self.raise_on & set(ids):
            raise RuntimeError(f"poison record among {ids}")
        if self.answer is not None:
            return self.answer
        reported = [item for item in self.report if str(item) in ids]
        if reported:
            if not self.report_always:
                self.report = [item for item in self.report if item not in reported]
            return {"batchItemFailures": [{"itemIdentifier": i} for i in reported]}
        return {"batchItemFailures": []}

    @property
    def batches(self) -> list[list[str]]:
        return [identifiers(event) for event in self.events]


def identifiers(event: dict[str, Any]) -> list[str]:
    """The item identifiers of an event: message ids or sequence numbers."""
    found = []
    for record in event["Records"]:
        if "messageId" in record:
            found.append(record["messageId"])
        elif "kinesis" in record:
            found.append(record["kinesis"]["sequenceNumber"])
        else:
            found.append(record["dynamodb"]["SequenceNumber"])
    return found


def data_of(event: dict[str, Any]) -> list[str]:
    """The data of a Kinesis event's records, decoded."""
    return [
        base64.b64decode(record["kinesis"]["data"]).decode()
        for record in event["Records"]
    ]


def create_stream(aws: AwsSettings, *, shards: int = 1, name: str = STREAM) -> None:
    kinesis = client("kinesis", aws)
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    kinesis.get_waiter("stream_exists").wait(
        StreamName=name, WaiterConfig={"Delay": 0.1}
    )


def put_records(
    aws: AwsSettings,
    data: Iterable[str],
    *,
    shard: int = 0,
    name: str = STREAM,
) -> list[str]:
    """Put records into one shard, in order; their sequence numbers."""
    answer = client("kinesis", aws).put_records(
        StreamName=name,
        Records=[
            {
                "Data": item.encode(),
                "PartitionKey": f"key-{shard}",
                "ExplicitHashKey": SHARD_HASH_KEYS[shard],
            }
            for item in data
        ],
    )
    assert answer["FailedRecordCount"] == 0
    return [record["SequenceNumber"] for record in answer["Records"]]


def create_table(aws: AwsSettings, *, name: str = TABLE) -> None:
    client("dynamodb", aws).create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "aggregate_id", "KeyType": "HASH"},
            {"AttributeName": "version", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "aggregate_id", "AttributeType": "S"},
            {"AttributeName": "version", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )


def put_commit(
    aws: AwsSettings, *, aggregate_id: str, version: int, name: str = TABLE
) -> None:
    client("dynamodb", aws).put_item(
        TableName=name,
        Item={
            "aggregate_id": {"S": aggregate_id},
            "version": {"N": str(version)},
            "last_version": {"N": str(version)},
            "events": {"L": [{"S": json.dumps({"aggregate_version": version})}]},
        },
        ConditionExpression="attribute_not_exists(aggregate_id)",
    )


def create_queue(
    aws: AwsSettings, *, name: str = QUEUE, visibility_timeout: int = 30
) -> str:
    return client("sqs", aws).create_queue(
        QueueName=name, Attributes={"VisibilityTimeout": str(visibility_timeout)}
    )["QueueUrl"]


def drain(aws: AwsSettings, queue_url: str) -> list[dict[str, Any]]:
    """Every message now visible in a queue (received, then deleted)."""
    sqs = client("sqs", aws)
    messages = []
    while True:
        answer = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        )
        batch = answer.get("Messages", [])
        if not batch:
            return messages
        messages += batch
        for message in batch:
            sqs.delete_message(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"]
            )


def stream_mapping(**overrides: Any) -> EventSourceMapping:
    settings: dict[str, Any] = {
        "name": "er-kinesis",
        "function": "shared_events.event_source_mapping.tests.recorded.handler",
        "source_kind": SourceKind.KINESIS,
        "source_name": STREAM,
        "starting_position": "TRIM_HORIZON",
    }
    settings.update(overrides)
    return EventSourceMapping(**settings)


def queue_mapping(**overrides: Any) -> EventSourceMapping:
    settings: dict[str, Any] = {
        "name": "er-sqs",
        "function": "shared_events.event_source_mapping.tests.recorded.handler",
        "source_kind": SourceKind.SQS,
        "source_name": QUEUE,
    }
    settings.update(overrides)
    return EventSourceMapping(**settings)


def runnable(
    mapping: EventSourceMapping, aws: AwsSettings, handler: Callable
) -> RunnableMapping:
    return resolve_mapping(mapping, aws=aws, handler=handler)


def runner(
    aws: AwsSettings,
    tmp_path: Path,
    *pairs: tuple[EventSourceMapping, Callable],
    **options: Any,
) -> MappingRunner:
    options.setdefault("poll_interval_seconds", 0.02)
    options.setdefault("retry_delay_seconds", 0.001)
    return MappingRunner(
        [runnable(mapping, aws, handler) for mapping, handler in pairs],
        aws=aws,
        checkpoint_file=tmp_path / "checkpoints.json",
        **options,
    )


def run_in_thread(target: MappingRunner) -> threading.Thread:
    thread = threading.Thread(target=target.run, daemon=True)
    thread.start()
    return thread


def wait_until(condition: Callable[[], bool], *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the condition")
        time.sleep(0.01)

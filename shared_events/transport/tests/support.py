"""What the AWS tests share: building messages, reading queues, counting calls."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from shared_events.testing.queues import delete_received
from shared_events.transport.publisher import OutgoingMessage


def envelope_message(
    *,
    aggregate_id: str = "42",
    version: int = 1,
    event_type: str = "CustomerRenamed",
    payload: dict[str, Any] | None = None,
    event_id: str | None = None,
) -> OutgoingMessage:
    """A message as the relay would build it from an outbox row."""
    event_id = event_id or str(uuid.uuid4())
    envelope = {
        "event_id": event_id,
        "event_type": event_type,
        "schema_version": 1,
        "aggregate_type": "Customer",
        "aggregate_id": aggregate_id,
        "aggregate_version": version,
        "occurred_at": "2026-01-01T12:00:00+00:00",
        "producer": "customer",
        "correlation_id": event_id,
        "causation_id": None,
        "trace_context": {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
        # Non-ASCII on purpose: the body must arrive byte for byte.
        "payload": payload if payload is not None else {"name": "Zoë Ünal"},
    }
    return OutgoingMessage(
        id=event_id,
        body=json.dumps(envelope, ensure_ascii=False),
        group_id=aggregate_id,
        attributes={
            "event_type": event_type,
            "aggregate_type": "Customer",
            "schema_version": "1",
        },
    )


def receive_all(
    sqs: Any, queue_url: str, *, expected: int, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Receive and delete until ``expected`` messages came (or ``timeout`` passed).

    Short explicit waits: the inboxes long-poll for 20 seconds by default.
    """
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < expected and time.monotonic() < deadline:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if batch:
            delete_received(sqs, queue_url, batch)
        messages.extend(batch)
    return messages


def queue_is_empty(sqs: Any, queue_url: str) -> bool:
    received = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0)
    return not received.get("Messages")


@contextlib.contextmanager
def count_calls(aws_client: Any, operation: str) -> Iterator[list[str]]:
    """Count ``operation`` calls made through ``aws_client`` inside the block.

    Uses botocore's event hooks, so the calls still go over the wire. The hook is
    removed again: clients are cached and shared between tests.
    """
    calls: list[str] = []
    service = aws_client.meta.service_model.service_id.hyphenize()
    event = f"before-call.{service}.{operation}"

    def record(**_: Any) -> None:
        calls.append(operation)

    aws_client.meta.events.register(event, record)
    try:
        yield calls
    finally:
        aws_client.meta.events.unregister(event, record)


def stream_records(kinesis: Any, stream_name: str) -> list[dict[str, Any]]:
    """Every record on the stream, read from TRIM_HORIZON over all its shards.

    Each record as boto3 returns it, plus its ``ShardId``. Shards are read one
    after the other: order between shards means nothing, only within one.
    """
    records: list[dict[str, Any]] = []
    for shard in kinesis.list_shards(StreamName=stream_name)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream_name,
            ShardId=shard["ShardId"],
            ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]
        while iterator:
            answer = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            if not answer["Records"]:
                break
            records += [{**r, "ShardId": shard["ShardId"]} for r in answer["Records"]]
            iterator = answer.get("NextShardIterator")
    return records

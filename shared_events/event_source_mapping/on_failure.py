"""The on-failure destination of a stream mapping: AWS's invocation record.

When a stream batch has used up its retries, Lambda gives up on it, moves the
shard past it, and (if the mapping has an on-failure destination) sends an
*invocation record* to an SQS queue. The record says where the batch was,
not what it held::

    {"requestContext": {"requestId": ..., "functionArn": ...,
                        "condition": "RetryAttemptsExhausted",
                        "approximateInvokeCount": 3},
     "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                         "functionError": "Unhandled"},
     "version": "1.0", "timestamp": "2019-11-14T00:38:06.021Z",
     "KinesisBatchInfo": {"shardId": ..., "startSequenceNumber": ...,
                          "endSequenceNumber": ...,
                          "approximateArrivalOfFirstRecord": ...,
                          "approximateArrivalOfLastRecord": ...,
                          "batchSize": 1, "streamArn": ...}}

(``DDBStreamBatchInfo`` for a DynamoDB stream.) Things a learner should notice:
the records themselves are not in the message. Whoever handles it reads them
back from the stream, by sequence number, before the stream's retention (24
hours by default) drops them.
"""

from __future__ import annotations

import json
import time
from typing import Any

from shared_events.event_source_mapping.invocation import Invocation
from shared_events.event_source_mapping.shards import (
    StreamRecord,
    StreamSource,
    iso_millis,
)
from shared_events.transport.clients import AwsSettings, client

RETRY_ATTEMPTS_EXHAUSTED = "RetryAttemptsExhausted"


def invocation_record(
    *,
    source: StreamSource,
    records: list[StreamRecord],
    last_invocation: Invocation,
    invocations: int,
    now: float | None = None,
) -> dict[str, Any]:
    """The message Lambda sends for a batch it discarded."""
    runnable = source.runnable
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if last_invocation.raised:
        response_context["functionError"] = "Unhandled"
    first, last = records[0], records[-1]
    return {
        "requestContext": {
            "requestId": last_invocation.request_id,
            "functionArn": runnable.function_arn,
            "condition": RETRY_ATTEMPTS_EXHAUSTED,
            "approximateInvokeCount": invocations,
        },
        "responseContext": response_context,
        "version": "1.0",
        "timestamp": iso_millis(time.time() if now is None else now),
        source.batch_info_key: {
            "shardId": first.shard_id,
            "startSequenceNumber": first.sequence_number,
            "endSequenceNumber": last.sequence_number,
            "approximateArrivalOfFirstRecord": source.format_arrival(first.arrival),
            "approximateArrivalOfLastRecord": source.format_arrival(last.arrival),
            "batchSize": len(records),
            "streamArn": runnable.source.arn,
        },
    }


def send_invocation_record(
    record: dict[str, Any], *, queue_url: str, aws: AwsSettings
) -> None:
    message: dict[str, Any] = {"QueueUrl": queue_url, "MessageBody": json.dumps(record)}
    if queue_url.endswith(".fifo"):
        # AWS takes standard queues only as destinations; a FIFO queue (the
        # platform's dead-letter queues under EVENT_FIFO) needs a group and an id.
        message["MessageGroupId"] = _batch_info(record)["shardId"]
        message["MessageDeduplicationId"] = record["requestContext"]["requestId"]
    client("sqs", aws).send_message(**message)


def _batch_info(record: dict[str, Any]) -> dict[str, Any]:
    return next(value for key, value in record.items() if key.endswith("BatchInfo"))

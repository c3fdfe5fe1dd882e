"""A failing batch: bisect, bounded retries, partial batch responses and the
on-failure destination, each on its own."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from shared_events.event_source_mapping import read_response
from shared_events.event_source_mapping.tests import support
from shared_events.transport.clients import client

ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _on_failure_queue(aws) -> str:
    return support.create_queue(aws, name=support.FAILURE_QUEUE)


def _invocation_records(aws, queue_url: str) -> list[dict]:
    return [json.loads(m["Body"]) for m in support.drain(aws, queue_url)]


def test_bisect_isolates_the_poison_record_and_the_rest_gets_through(aws, tmp_path):
    support.create_stream(aws)
    sequence = support.put_records(aws, [f"r{n}" for n in range(1, 9)])
    failures = _on_failure_queue(aws)
    recorder = support.Recorder(raise_on={sequence[5]})  # the sixth record
    mapping = support.stream_mapping(
        batch_size=8,
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=1,
        on_failure_queue=support.FAILURE_QUEUE,
    )
    runner = support.runner(aws, tmp_path, (mapping, recorder))

    runner.run(until_idle=True)

    def numbers(batch):
        return [sequence.index(s) + 1 for s in batch]

    assert [numbers(batch) for batch in recorder.batches] == [
        [1, 2, 3, 4, 5, 6, 7, 8],  # fails: split
        [1, 2, 3, 4],
        [5, 6, 7, 8],  # fails: split
        [5, 6],  # fails: split
        [5],
        [6],  # fails alone: one retry...
        [6],  # ...then it is discarded
        [7, 8],
    ]
    (record,) = _invocation_records(aws, failures)
    batch_info = record["KinesisBatchInfo"]
    assert (batch_info["startSequenceNumber"], batch_info["endSequenceNumber"]) == (
        sequence[5],
        sequence[5],
    )
    assert batch_info["batchSize"] == 1
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert runner.checkpoints.snapshot() == {
        "er-kinesis": {"shardId-000000000000": sequence[-1]}
    }
    assert runner.stats.records_discarded == 1


def test_retries_are_bounded_then_the_shard_moves_on(aws, tmp_path):
    support.create_stream(aws)
    sequence = support.put_records(aws, ["a", "poison", "c", "d", "e"])
    failures = _on_failure_queue(aws)
    recorder = support.Recorder(raise_on={sequence[1]})
    mapping = support.stream_mapping(
        batch_size=3, maximum_retry_attempts=2, on_failure_queue=support.FAILURE_QUEUE
    )

    support.runner(aws, tmp_path, (mapping, recorder)).run(until_idle=True)

    first_three = sequence[:3]
    assert recorder.batches == [first_three] * 3 + [sequence[3:]]
    (record,) = _invocation_records(aws, failures)
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["KinesisBatchInfo"]["batchSize"] == 3
    assert record["KinesisBatchInfo"]["startSequenceNumber"] == sequence[0]
    assert record["KinesisBatchInfo"]["endSequenceNumber"] == sequence[2]


def test_infinite_retries_block_the_shard_until_the_runner_stops(aws, tmp_path):
    support.create_stream(aws)
    sequence = support.put_records(aws, ["poison", "b"])
    recorder = support.Recorder(raise_on={sequence[0]})
    mapping = support.stream_mapping(batch_size=1)  # MaximumRetryAttempts -1
    runner = support.runner(aws, tmp_path, (mapping, recorder))
    thread = support.run_in_thread(runner)

    support.wait_until(lambda: len(recorder.events) >= 5)
    runner.stop.set()
    thread.join(timeout=10)

    assert not thread.is_alive()
    assert set(map(tuple, recorder.batches)) == {(sequence[0],)}
    assert runner.checkpoints.snapshot() == {}  # nothing done, nothing skipped


def test_a_partial_batch_response_checkpoints_before_the_lowest_failure(aws, tmp_path):
    support.create_stream(aws)
    sequence = support.put_records(aws, [f"r{n}" for n in range(1, 7)])
    checkpoint_file = tmp_path / "checkpoints.json"
    seen_checkpoints = []
    recorder = support.Recorder(report=[sequence[4], sequence[3]])  # 5 and 4

    def handler(event, context):
        if checkpoint_file.exists():
            state = json.loads(checkpoint_file.read_text())
            seen_checkpoints.append(
                state["mappings"]["er-kinesis"]["shards"]["shardId-000000000000"]
            )
        return recorder(event, context)

    mapping = support.stream_mapping(batch_size=6)
    runner = support.runner(aws, tmp_path, (mapping, handler))

    runner.run(until_idle=True)

    assert recorder.batches == [sequence, sequence[3:]]  # retried from the 4th
    assert seen_checkpoints == [sequence[2]]  # just before the lowest failure
    assert runner.checkpoints.snapshot() == {
        "er-kinesis": {"shardId-000000000000": sequence[-1]}
    }


def test_partial_failures_count_as_retries(aws, tmp_path):
    support.create_stream(aws)
    sequence = support.put_records(aws, ["a", "b", "c"])
    failures = _on_failure_queue(aws)
    recorder = support.Recorder(report=[sequence[1]], report_always=True)
    mapping = support.stream_mapping(
        maximum_retry_attempts=1, on_failure_queue=support.FAILURE_QUEUE
    )

    support.runner(aws, tmp_path, (mapping, recorder)).run(until_idle=True)

    assert recorder.batches == [sequence, sequence[1:]]
    (record,) = _invocation_records(aws, failures)
    assert record["KinesisBatchInfo"]["startSequenceNumber"] == sequence[1]
    assert record["KinesisBatchInfo"]["batchSize"] == 2
    # The handler did not raise: there is no function error to report.
    assert "functionError" not in record["responseContext"]


@pytest.mark.parametrize(
    "answer",
    [
        {"batchItemFailures": [{"itemIdentifier": "999"}]},  # not in the batch
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"id": "1"}]},
        "not a response",
    ],
    ids=["unknown", "empty", "bad-key", "not-an-object"],
)
def test_a_malformed_response_fails_the_whole_batch(aws, tmp_path, answer):
    support.create_stream(aws)
    sequence = support.put_records(aws, ["a", "b"])
    failures = _on_failure_queue(aws)
    recorder = support.Recorder(answer=answer)
    mapping = support.stream_mapping(
        maximum_retry_attempts=0, on_failure_queue=support.FAILURE_QUEUE
    )

    support.runner(aws, tmp_path, (mapping, recorder)).run(until_idle=True)

    assert recorder.batches == [sequence]
    (record,) = _invocation_records(aws, failures)
    assert record["KinesisBatchInfo"]["batchSize"] == 2


def test_aws_rules_for_reading_a_response():
    def outcome(response, **options):
        options.setdefault("identifiers", ["1", "2", "10"])
        options.setdefault("by_sequence_number", True)
        result = read_response(response, request_id="r", **options)
        return result.outcome.value, result.failed

    for success in (None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}):
        assert outcome(success) == ("success", ())
    assert outcome({"batchItemFailures": [{"itemIdentifier": 10}]}) == (
        "partial_failure",
        ("10",),
    )
    assert outcome({"batchItemFailures": [{"itemIdentifier": "010"}]}) == (
        "partial_failure",
        ("10",),
    )
    for malformed in (
        [],
        {"batchItemFailures": "1"},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"itemIdentifier": "x"}]},
        {"batchItemFailures": [{"itemIdentifier": {"1": 1}}]},
    ):
        assert outcome(malformed)[0] == "function_error"
    assert outcome(
        {"batchItemFailures": [{"itemIdentifier": "m-2"}]},
        identifiers=["m-1", "m-2"],
        by_sequence_number=False,
    ) == ("partial_failure", ("m-2",))


def test_without_report_batch_item_failures_the_answer_is_ignored(aws, tmp_path):
    support.create_stream(aws)
    sequence = support.put_records(aws, ["a", "b"])
    recorder = support.Recorder(report=[sequence[0]], report_always=True)
    mapping = support.stream_mapping(function_response_types=())

    runner = support.runner(aws, tmp_path, (mapping, recorder))
    runner.run(until_idle=True)

    assert recorder.batches == [sequence]
    assert runner.stats.partial_failures == 0


def test_the_kinesis_on_failure_message_has_aws_shape(aws, tmp_path):
    support.create_stream(aws)
    sequence = support.put_records(aws, ["poison-1", "poison-2"])
    failures = _on_failure_queue(aws)
    recorder = support.Recorder(raise_on=set(sequence))
    mapping = support.stream_mapping(
        maximum_retry_attempts=1, on_failure_queue=support.FAILURE_QUEUE
    )
    stream_arn = client("kinesis", aws).describe_stream_summary(
        StreamName=support.STREAM
    )["StreamDescriptionSummary"]["StreamARN"]

    support.runner(aws, tmp_path, (mapping, recorder)).run(until_idle=True)

    (record,) = _invocation_records(aws, failures)
    assert ISO_MILLIS.match(record.pop("timestamp"))
    arrivals = [
        r["kinesis"]["approximateArrivalTimestamp"]
        for r in recorder.events[0]["Records"]
    ]
    assert record == {
        "requestContext": {
            "requestId": recorder.contexts[-1].aws_request_id,
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:er-kinesis",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 2,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "version": "1.0",
        "KinesisBatchInfo": {
            "shardId": "shardId-000000000000",
            "startSequenceNumber": sequence[0],
            "endSequenceNumber": sequence[1],
            "approximateArrivalOfFirstRecord": _iso_millis(arrivals[0]),
            "approximateArrivalOfLastRecord": _iso_millis(arrivals[1]),
            "batchSize": 2,
            "streamArn": stream_arn,
        },
    }


def test_the_dynamodb_on_failure_message_has_aws_shape(aws, tmp_path):
    support.create_table(aws)
    support.put_commit(aws, aggregate_id="a", version=1)
    failures = _on_failure_queue(aws)
    recorder = support.Recorder(answer="malformed")
    mapping = support.stream_mapping(
        name="er-ddb",
        source_kind="DYNAMODB_STREAM",
        source_name=support.TABLE,
        maximum_retry_attempts=0,
        on_failure_queue=support.FAILURE_QUEUE,
    )

    support.runner(aws, tmp_path, (mapping, recorder)).run(until_idle=True)

    (record,) = _invocation_records(aws, failures)
    (stream_record,) = recorder.events[0]["Records"]
    created = stream_record["dynamodb"]["ApproximateCreationDateTime"]
    assert set(record) == {
        "requestContext",
        "responseContext",
        "version",
        "timestamp",
        "DDBStreamBatchInfo",
    }
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
    }
    info = record["DDBStreamBatchInfo"]
    assert ISO_SECONDS.match(info["approximateArrivalOfFirstRecord"])
    stream = client("dynamodbstreams", aws).describe_stream(
        StreamArn=stream_record["eventSourceARN"]
    )["StreamDescription"]
    assert info == {
        "shardId": stream["Shards"][0]["ShardId"],
        "startSequenceNumber": stream_record["dynamodb"]["SequenceNumber"],
        "endSequenceNumber": stream_record["dynamodb"]["SequenceNumber"],
        "approximateArrivalOfFirstRecord": _iso_seconds(created),
        "approximateArrivalOfLastRecord": _iso_seconds(created),
        "batchSize": 1,
        "streamArn": stream_record["eventSourceARN"],
    }


def test_a_discarded_batch_without_destination_still_moves_the_shard_on(aws, tmp_path):
    support.create_stream(aws)
    sequence = support.put_records(aws, ["poison", "b"])
    recorder = support.Recorder(raise_on={sequence[0]})
    mapping = support.stream_mapping(batch_size=1, maximum_retry_attempts=0)

    support.runner(aws, tmp_path, (mapping, recorder)).run(until_idle=True)

    assert recorder.batches == [[sequence[0]], [sequence[1]]]


def _iso_millis(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _iso_seconds(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

"""Mappings carry AWS's defaults and refuse what AWS would refuse."""

from __future__ import annotations

import pytest

from shared_events.event_source_mapping import (
    EventSourceMapping,
    InvalidMapping,
    SourceKind,
    StartingPosition,
)


def _stream(**overrides):
    settings = {
        "name": "m",
        "function": "pkg.module.handler",
        "source_kind": "KINESIS",
        "source_name": "s",
        "starting_position": "TRIM_HORIZON",
    }
    return EventSourceMapping(**{**settings, **overrides})


def _queue(**overrides):
    settings = {
        "name": "m",
        "function": "pkg.module.handler",
        "source_kind": "SQS",
        "source_name": "q",
    }
    return EventSourceMapping(**{**settings, **overrides})


def test_aws_defaults():
    stream, queue = _stream(), _queue()
    assert (stream.batch_size, stream.maximum_retry_attempts) == (100, -1)
    assert _stream(source_kind="DYNAMODB_STREAM").batch_size == 100
    assert (queue.batch_size, queue.maximum_retry_attempts) == (10, None)
    assert stream.maximum_batching_window_seconds == 0
    assert stream.bisect_batch_on_function_error is False
    assert stream.reports_batch_item_failures
    assert stream.source_kind is SourceKind.KINESIS
    assert stream.starting_position is StartingPosition.TRIM_HORIZON


@pytest.mark.parametrize(
    ("make", "overrides", "message"),
    [
        (_stream, {"batch_size": 0}, "BatchSize"),
        (_stream, {"batch_size": 10_001}, "BatchSize"),
        (_queue, {"batch_size": 10_001, "maximum_batching_window_seconds": 1}, "Batch"),
        (_queue, {"batch_size": 11}, "MaximumBatchingWindowInSeconds of at least 1"),
        (_queue, {"source_name": "q.fifo", "batch_size": 11}, "BatchSize must be 1-10"),
        (_stream, {"maximum_batching_window_seconds": 301}, "MaximumBatching"),
        (_stream, {"maximum_batching_window_seconds": -1}, "MaximumBatching"),
        (_stream, {"maximum_retry_attempts": 10_001}, "MaximumRetryAttempts"),
        (_stream, {"maximum_retry_attempts": -2}, "MaximumRetryAttempts"),
        (_stream, {"starting_position": None}, "StartingPosition"),
        (_queue, {"starting_position": "LATEST"}, "streams only"),
        (_queue, {"bisect_batch_on_function_error": True}, "streams only"),
        (_queue, {"maximum_retry_attempts": 3}, "streams only"),
        (_queue, {"on_failure_queue": "dlq"}, "streams only"),
        (_stream, {"function": "handler"}, "dotted path"),
        (_stream, {"name": "has space"}, "name"),
        (_stream, {"function_response_types": ("Other",)}, "FunctionResponseTypes"),
    ],
)
def test_what_aws_would_refuse_is_refused(make, overrides, message):
    with pytest.raises(InvalidMapping, match=message):
        make(**overrides)


def test_limits_themselves_are_allowed():
    _stream(batch_size=10_000, maximum_batching_window_seconds=300)
    _stream(maximum_retry_attempts=10_000)
    _queue(batch_size=10_000, maximum_batching_window_seconds=1)
    _queue(batch_size=10)


def test_retries_are_counted_after_the_first_invocation():
    two_retries = _stream(maximum_retry_attempts=2)
    assert [two_retries.retries_exhausted(invocations=n) for n in (1, 2, 3)] == [
        False,
        False,
        True,
    ]
    assert _stream(maximum_retry_attempts=0).retries_exhausted(invocations=1)
    assert not _stream().retries_exhausted(invocations=1_000_000)  # -1: forever


def test_the_cloudformation_properties():
    assert _stream(
        batch_size=50, bisect_batch_on_function_error=True, maximum_retry_attempts=3
    ).aws_properties() == {
        "BatchSize": 50,
        "MaximumBatchingWindowInSeconds": 0,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "StartingPosition": "TRIM_HORIZON",
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 3,
    }
    assert _queue().aws_properties() == {
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }

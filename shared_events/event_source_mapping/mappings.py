"""An event source mapping as data: AWS's ``AWS::Lambda::EventSourceMapping``.

Each field means what the CloudFormation property of the same name means, with
AWS's defaults and AWS's limits, so that the local runner and the deployed
mappings are built from one table and cannot disagree.

Things a learner should notice:

* A mapping names its handler by dotted path and its source by *name* (queue,
  stream or table). The name becomes a URL or ARN only at run time
  (``resolve``), so the same table serves moto and real AWS.
* Streams and queues are configured differently because AWS treats them
  differently: a stream has a position (``starting_position``) and is retried
  in order, so a poison record needs ``bisect_batch_on_function_error``,
  ``maximum_retry_attempts`` and an ``on_failure_queue``; a queue has none of
  these, its own redrive policy moves a poison message to its dead-letter queue.
* Limits are checked when the mapping is made, the way CloudFormation would
  refuse the template, not when the first batch misbehaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SourceKind(StrEnum):
    SQS = "SQS"
    KINESIS = "KINESIS"
    DYNAMODB_STREAM = "DYNAMODB_STREAM"

    @property
    def is_stream(self) -> bool:
        return self is not SourceKind.SQS


class StartingPosition(StrEnum):
    TRIM_HORIZON = "TRIM_HORIZON"
    LATEST = "LATEST"


REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"

#: AWS's defaults when the property is left out.
DEFAULT_BATCH_SIZE = {
    SourceKind.SQS: 10,
    SourceKind.KINESIS: 100,
    SourceKind.DYNAMODB_STREAM: 100,
}
MAX_BATCH_SIZE = 10_000
MAX_FIFO_BATCH_SIZE = 10
MAX_BATCHING_WINDOW_SECONDS = 300
MAX_RETRY_ATTEMPTS = 10_000
#: ``maximum_retry_attempts=-1`` (AWS's default for streams): retry until the
#: record expires, that is, a poison record blocks its shard.
INFINITE_RETRIES = -1


class InvalidMapping(ValueError):
    """A mapping AWS would refuse; the message names the property."""


@dataclass(frozen=True)
class EventSourceMapping:
    """One handler fed by one source, with AWS's batching and retry settings.

    ``batch_size`` and ``maximum_retry_attempts`` left as ``None`` take AWS's
    default for the source kind (10 for SQS, 100 for streams; -1, retry
    forever, for streams).
    """

    name: str
    function: str
    source_kind: SourceKind
    source_name: str
    batch_size: int | None = None
    maximum_batching_window_seconds: int = 0
    starting_position: StartingPosition | None = None
    bisect_batch_on_function_error: bool = False
    maximum_retry_attempts: int | None = None
    on_failure_queue: str | None = None
    function_response_types: tuple[str, ...] = (REPORT_BATCH_ITEM_FAILURES,)

    def __post_init__(self) -> None:
        # Normalise first (a frozen dataclass needs object.__setattr__), then check.
        kind = SourceKind(self.source_kind)
        object.__setattr__(self, "source_kind", kind)
        if self.starting_position is not None:
            object.__setattr__(
                self, "starting_position", StartingPosition(self.starting_position)
            )
        if self.batch_size is None:
            object.__setattr__(self, "batch_size", DEFAULT_BATCH_SIZE[kind])
        if kind.is_stream and self.maximum_retry_attempts is None:
            object.__setattr__(self, "maximum_retry_attempts", INFINITE_RETRIES)
        object.__setattr__(
            self, "function_response_types", tuple(self.function_response_types)
        )
        _check(self)

    @property
    def is_stream(self) -> bool:
        return self.source_kind.is_stream

    @property
    def reports_batch_item_failures(self) -> bool:
        return REPORT_BATCH_ITEM_FAILURES in self.function_response_types

    def retries_exhausted(self, *, invocations: int) -> bool:
        """Has a batch invoked ``invocations`` times used up its retries?"""
        if self.maximum_retry_attempts in (None, INFINITE_RETRIES):
            return False
        return invocations > self.maximum_retry_attempts

    def aws_properties(self) -> dict[str, object]:
        """The CloudFormation properties this mapping stands for.

        ``EventSourceArn``, ``FunctionName`` and the on-failure destination's ARN
        are left to the template: they are resources, not settings.
        """
        properties: dict[str, object] = {
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.maximum_batching_window_seconds,
            "FunctionResponseTypes": list(self.function_response_types),
        }
        if self.is_stream:
            properties.update(
                StartingPosition=str(self.starting_position),
                BisectBatchOnFunctionError=self.bisect_batch_on_function_error,
                MaximumRetryAttempts=self.maximum_retry_attempts,
            )
        return properties


def _check(mapping: EventSourceMapping) -> None:
    kind = mapping.source_kind
    if not mapping.name or not mapping.name.replace("-", "").replace("_", "").isalnum():
        raise InvalidMapping(
            f"name {mapping.name!r}: letters, digits, '-' and '_' only"
        )
    if "." not in mapping.function:
        raise InvalidMapping(
            f"{mapping.name}: function {mapping.function!r} must be a dotted path "
            "(module.handler)"
        )
    if not mapping.source_name:
        raise InvalidMapping(f"{mapping.name}: source_name is required")
    batch_size = mapping.batch_size
    assert batch_size is not None  # set by __post_init__
    fifo = kind is SourceKind.SQS and mapping.source_name.endswith(".fifo")
    limit = MAX_FIFO_BATCH_SIZE if fifo else MAX_BATCH_SIZE
    if not 1 <= batch_size <= limit:
        raise InvalidMapping(f"{mapping.name}: BatchSize must be 1-{limit}")
    window = mapping.maximum_batching_window_seconds
    if not 0 <= window <= MAX_BATCHING_WINDOW_SECONDS:
        raise InvalidMapping(
            f"{mapping.name}: MaximumBatchingWindowInSeconds must be "
            f"0-{MAX_BATCHING_WINDOW_SECONDS}"
        )
    unknown = set(mapping.function_response_types) - {REPORT_BATCH_ITEM_FAILURES}
    if unknown:
        raise InvalidMapping(
            f"{mapping.name}: unknown FunctionResponseTypes {sorted(unknown)}"
        )
    if kind.is_stream:
        _check_stream(mapping)
    else:
        _check_queue(mapping, batch_size=batch_size, window=window)


def _check_stream(mapping: EventSourceMapping) -> None:
    if mapping.starting_position is None:
        raise InvalidMapping(
            f"{mapping.name}: StartingPosition (TRIM_HORIZON or LATEST) is required "
            "for a stream"
        )
    retries = mapping.maximum_retry_attempts
    assert retries is not None  # set by __post_init__
    if not INFINITE_RETRIES <= retries <= MAX_RETRY_ATTEMPTS:
        raise InvalidMapping(
            f"{mapping.name}: MaximumRetryAttempts must be -1 to {MAX_RETRY_ATTEMPTS}"
        )


def _check_queue(mapping: EventSourceMapping, *, batch_size: int, window: int) -> None:
    stream_only = {
        "StartingPosition": mapping.starting_position is not None,
        "BisectBatchOnFunctionError": mapping.bisect_batch_on_function_error,
        "MaximumRetryAttempts": mapping.maximum_retry_attempts is not None,
        "DestinationConfig.OnFailure": mapping.on_failure_queue is not None,
    }
    given = [name for name, present in stream_only.items() if present]
    if given:
        raise InvalidMapping(
            f"{mapping.name}: {', '.join(given)} apply to streams only; an SQS "
            "queue retries through its visibility timeout and redrive policy"
        )
    if batch_size > 10 and window < 1:
        raise InvalidMapping(
            f"{mapping.name}: a BatchSize over 10 needs "
            "MaximumBatchingWindowInSeconds of at least 1"
        )

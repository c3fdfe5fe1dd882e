"""Which AWS errors the runner waits out, and which it reports.

Things a learner should notice: a poller must tell "AWS is not answering
right now" (connection refused, a timeout, a 5xx, throttling: pause with a
growing delay and try again) from "what I read from is gone" (moto restarted
and forgot the stream or queue: look it up again) from a bug (a bad request:
stop and say so). Retrying everything would hide bugs; retrying nothing would
make a broker restart kill every consumer.
"""

from __future__ import annotations

from botocore import exceptions as botocore_errors

from shared_events.event_source_mapping.resolve import SourceNotFound

_THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "KMSThrottlingException",
}
_GONE = {
    "ResourceNotFoundException",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
}


def error_code(error: BaseException) -> str:
    if isinstance(error, botocore_errors.ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def is_transient(error: BaseException) -> bool:
    """AWS did not answer, or answered "not now": try again later."""
    if isinstance(
        error, botocore_errors.ConnectionError | botocore_errors.HTTPClientError
    ):
        return True
    if isinstance(error, botocore_errors.ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500 or error_code(error) in _THROTTLING
    return False


def is_source_gone(error: BaseException) -> bool:
    """The queue, stream or table is not there (any more): resolve it again."""
    return isinstance(error, SourceNotFound) or error_code(error) in _GONE


def is_expired_iterator(error: BaseException) -> bool:
    """A shard iterator lives five minutes on AWS (forever on moto)."""
    return error_code(error) == "ExpiredIteratorException"

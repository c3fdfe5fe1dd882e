"""Which AWS errors the runner waits out, and which it reports.

Things a learner should notice: a poller must tell "AWS is not answering
right now" (connection refused, a timeout, a 5xx, throttling: pause with a
growing delay and try again) from "what I read from is gone" (moto restarted
and forgot the stream or queue: look it up again) from a bug (a bad request:
stop and say so). Retrying everything would hide bugs; retrying nothing would
make a broker restart kill every consumer.

A broker killed in the middle of an answer is the sly case: botocore parses
an empty or cut-off JSON body as ``{}`` (or ``{"message": <the text>}``)
rather than raising, so the call "succeeds" without what it always returns.
``member`` turns that into ``GarbledAnswer``, which is waited out like any
other outage.
"""

from __future__ import annotations

from typing import Any

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


class GarbledAnswer(Exception):
    """AWS's answer lacks what the call always returns: it was cut off."""


def member(answer: dict[str, Any], key: str, *, call: str) -> Any:
    """``answer[key]``, or ``GarbledAnswer`` naming the call if it is missing."""
    try:
        return answer[key]
    except KeyError:
        raise GarbledAnswer(
            f"{call} answered without {key!r} (a cut-off answer?): "
            f"{sorted(set(answer) - {'ResponseMetadata'})}"
        ) from None


def error_code(error: BaseException) -> str:
    if isinstance(error, botocore_errors.ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def is_transient(error: BaseException) -> bool:
    """AWS did not answer, or answered "not now": try again later."""
    if isinstance(
        error,
        botocore_errors.ConnectionError
        | botocore_errors.HTTPClientError
        | GarbledAnswer,
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

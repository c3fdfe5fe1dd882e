"""Calling a handler the way Lambda does, and reading its answer the way AWS does.

Things a learner should notice:

* The handler is called in this process with a context object shaped like
  Lambda's (``aws_request_id``, ``function_name``, ``invoked_function_arn``,
  ``get_remaining_time_in_millis()``...): the handler has no local-only path.
* With ``ReportBatchItemFailures`` the answer
  ``{"batchItemFailures": [{"itemIdentifier": ...}]}`` names the records that
  failed. AWS's rules are followed to the letter: no answer, an empty answer or
  an empty list is a complete success; an identifier that is empty, missing or
  not in the batch makes the *whole* batch a failure, as does a handler that
  raises.
* Without ``ReportBatchItemFailures`` the answer is ignored: only an exception
  fails the batch.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared_events.event_source_mapping.resolve import RunnableMapping

logger = logging.getLogger(__name__)

#: What ``get_remaining_time_in_millis`` counts down from (Lambda's timeout).
FUNCTION_TIMEOUT_SECONDS = 60


class Outcome(StrEnum):
    SUCCESS = "success"
    PARTIAL_FAILURE = "partial_failure"
    FUNCTION_ERROR = "function_error"


@dataclass(frozen=True)
class Invocation:
    """What came of one call: ``failed`` holds the identifiers of a partial
    failure (as the batch spells them), ``error`` why a whole batch failed."""

    request_id: str
    outcome: Outcome
    failed: tuple[str, ...] = ()
    error: str | None = None
    raised: bool = False


@dataclass
class LambdaContext:
    """The second argument of ``handler(event, context)``, as Lambda fills it."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    log_group_name: str = ""
    log_stream_name: str = "local-event-source-mapping-runner"
    _deadline: float = field(
        default_factory=lambda: time.monotonic() + FUNCTION_TIMEOUT_SECONDS,
        repr=False,
    )

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def invoke(
    runnable: RunnableMapping,
    event: dict[str, Any],
    *,
    identifiers: list[str],
    by_sequence_number: bool,
) -> Invocation:
    """Call the handler with ``event``; ``identifiers`` are the batch's items
    (message ids, or sequence numbers when ``by_sequence_number``)."""
    context = LambdaContext(
        function_name=runnable.name, invoked_function_arn=runnable.function_arn
    )
    request_id = context.aws_request_id
    try:
        response = runnable.handler(event, context)
    except Exception as error:  # a function error, whatever the handler raised
        logger.warning(
            "%s: the handler raised on a batch of %d: %r",
            runnable.name,
            len(identifiers),
            error,
            exc_info=True,
        )
        return Invocation(
            request_id,
            Outcome.FUNCTION_ERROR,
            error=f"{type(error).__name__}: {error}",
            raised=True,
        )
    if not runnable.mapping.reports_batch_item_failures:
        return Invocation(request_id, Outcome.SUCCESS)
    return read_response(
        response,
        request_id=request_id,
        identifiers=identifiers,
        by_sequence_number=by_sequence_number,
    )


def read_response(
    response: Any,
    *,
    request_id: str,
    identifiers: list[str],
    by_sequence_number: bool,
) -> Invocation:
    """Interpret a ``ReportBatchItemFailures`` answer with AWS's rules."""

    def whole_batch(reason: str) -> Invocation:
        return Invocation(request_id, Outcome.FUNCTION_ERROR, error=reason)

    if response is None:
        return Invocation(request_id, Outcome.SUCCESS)
    if not isinstance(response, dict):
        return whole_batch(f"the response is not an object: {response!r:.200}")
    items = response.get("batchItemFailures")
    if not items:
        return Invocation(request_id, Outcome.SUCCESS)
    if not isinstance(items, list):
        return whole_batch("batchItemFailures is not a list")
    known = {_key(item, by_sequence_number): item for item in identifiers}
    failed = []
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str | int) or identifier == "":
            return whole_batch(f"a batch item failure without itemIdentifier: {item!r}")
        key = _key(identifier, by_sequence_number)
        if key not in known:
            return whole_batch(f"itemIdentifier {identifier!r} is not in the batch")
        failed.append(known[key])
    return Invocation(request_id, Outcome.PARTIAL_FAILURE, failed=tuple(failed))


def _key(identifier: Any, by_sequence_number: bool) -> Any:
    if not by_sequence_number:
        return identifier
    try:
        return int(identifier)
    except (TypeError, ValueError):
        return ("not a sequence number", str(identifier))

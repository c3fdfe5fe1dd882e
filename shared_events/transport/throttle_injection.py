"""Throttling answers injected into AWS calls: ``FAULT_INJECTION=throttle_aws:...``.

Real AWS throttles: a Kinesis shard takes 1,000 records or 1 MiB a second,
a DynamoDB partition has its own limits, and past them a call is answered
``ProvisionedThroughputExceededException``. moto never throttles, so the
platform's answer to throttling (the relay retries, a command gets 503)
would go untested locally. This module makes the local AWS answer as AWS
would, on purpose::

    FAULT_INJECTION=throttle_aws:PutRecords,PutItem@0.1

throttles one call in ten of ``PutRecords`` (Kinesis) and ``PutItem``
(DynamoDB); without ``@rate`` every call is throttled.

What a learner should notice:

* The answer is injected in the client, by a botocore event hook
  (``before-call.<service>.<Operation>``) that returns an error response
  instead of sending the request: the request never reaches the server, so
  a throttled call certainly changed nothing, exactly as with AWS.
* It acts *after* botocore's own retries (they happen inside the request
  that the hook skips): the caller sees the throttling that is left when
  the client has given up, which is what the platform's code must handle.
* Nothing else changes: the hook is installed only on clients built while
  the setting asks for it (``clients.client``), and only for the
  operations named.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse

logger = logging.getLogger(__name__)

#: The ``FAULT_INJECTION`` kind this module reads; the write side's ``Fault``
#: knows the kind too, and leaves it to transport.
THROTTLE_AWS = "throttle_aws"

#: What each service answers when it throttles (code, message); HTTP 400 all.
THROTTLING_ANSWERS: dict[str, tuple[str, str]] = {
    "kinesis": (
        "ProvisionedThroughputExceededException",
        "Rate exceeded for shard in stream.",
    ),
    "dynamodb": (
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was "
        "exceeded. Consider increasing your provisioning level with the "
        "UpdateTable API.",
    ),
    "sqs": ("RequestThrottled", "Request is throttled."),
    "sns": ("Throttling", "Rate exceeded."),
}
DEFAULT_ANSWER = ("ThrottlingException", "Rate exceeded.")

_OPERATION = re.compile(r"^[A-Z][A-Za-z0-9]*$")


@dataclass(frozen=True)
class InjectedThrottle:
    """Which operations are throttled, and the share of their calls (0 to 1)."""

    operations: frozenset[str]
    rate: float = 1.0

    def __post_init__(self) -> None:
        if not self.operations:
            raise ValueError(f"{THROTTLE_AWS} needs the operations to throttle")
        bad = sorted(name for name in self.operations if not _OPERATION.match(name))
        if bad:
            raise ValueError(
                f"{THROTTLE_AWS}: {', '.join(bad)} is not an AWS operation name "
                "(as the API spells it: PutRecords, PutItem, SendMessage...)"
            )
        if not 0 < self.rate <= 1:
            raise ValueError(
                f"{THROTTLE_AWS}: the rate must be in (0, 1], not {self.rate}"
            )

    @classmethod
    def from_setting(cls, value: str) -> InjectedThrottle | None:
        """The throttle a ``FAULT_INJECTION`` value asks for; None for any other
        kind of fault (or none).

        ``throttle_aws:PutRecords,PutItem`` throttles every call of both;
        ``throttle_aws:PutRecords,PutItem@0.25`` one call in four.
        """
        kind, _, rest = (value or "").strip().partition(":")
        if kind.strip() != THROTTLE_AWS:
            return None
        names, _, rate = rest.partition("@")
        operations = frozenset(filter(None, (n.strip() for n in names.split(","))))
        try:
            share = float(rate) if rate.strip() else 1.0
        except ValueError:
            raise ValueError(
                f"{THROTTLE_AWS}: the rate after '@' must be a number, not {rate!r}"
            ) from None
        return cls(operations=operations, rate=share)

    def install(self, aws_client: Any) -> list[str]:
        """Register the hook on ``aws_client`` for the operations its service
        has; the operations it now throttles."""
        model = aws_client.meta.service_model
        service_id = model.service_id.hyphenize()
        code, message = THROTTLING_ANSWERS.get(service_id, DEFAULT_ANSWER)
        throttled = sorted(self.operations & set(model.operation_names))
        for operation in throttled:
            aws_client.meta.events.register(
                f"before-call.{service_id}.{operation}",
                _ThrottlingHook(
                    operation=operation, code=code, message=message, rate=self.rate
                ),
            )
        return throttled


class _ThrottlingHook:
    """Answers a share of the calls with a throttling error, unsent."""

    def __init__(self, *, operation: str, code: str, message: str, rate: float):
        self.operation = operation
        self.code = code
        self.message = f"{message} (injected: FAULT_INJECTION={THROTTLE_AWS})"
        self.rate = rate

    def __call__(self, **kwargs: Any) -> tuple[AWSResponse, dict] | None:
        if self.rate < 1 and random.random() >= self.rate:
            return None  # this call goes through
        logger.warning("fault injection: %s throttled", self.operation)
        response = AWSResponse(url="", status_code=400, headers={}, raw=None)
        parsed = {
            "Error": {"Code": self.code, "Message": self.message},
            "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}},
        }
        return response, parsed

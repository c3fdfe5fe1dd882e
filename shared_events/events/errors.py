"""The one exception family a producer or consumer has to catch.

Notice that every way an event can be wrong (not JSON, a missing field, a
payload that breaks its schema, an unknown version, too many bytes) raises the
same type, ``InvalidEvent``, with a human-readable ``reason``. A consumer
needs exactly one ``except`` clause to send a poison message to the
dead-letter queue with its reason, instead of crashing the worker.
``UntrustedEvent`` is the kind a consumer must also tell apart: a well-formed
event that does not come from who it claims (unsigned, wrongly signed, from a
service that does not own its aggregate, or naming another aggregate than
its payload).
"""

from __future__ import annotations

MAX_REASON_CHARS = 500
"""Reasons end up in dead-letter records and logs; a 200 KiB string repeated
inside a schema error message would drown both, so reasons are shortened."""


class InvalidEvent(ValueError):
    """An event that must not be published or processed; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        if len(reason) > MAX_REASON_CHARS:
            reason = reason[: MAX_REASON_CHARS - 1] + "\u2026"
        super().__init__(reason)
        self.reason = reason


class EventTooLarge(InvalidEvent):
    """The encoded event is over the broker's message size cap.

    Producers hit this at write time (``encode``), so an oversized event is
    refused while the request that caused it can still fail cleanly, not
    later when the relay tries to hand it to SQS or SNS.
    """

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"event is {size} bytes encoded as UTF-8 JSON; the cap is {limit} bytes"
        )
        self.size = size
        self.limit = limit


class UntrustedEvent(InvalidEvent):
    """A well-formed event its consumer must not believe: forged or mismatched.

    Unsigned, signed with a key nobody trusts or with another service's key,
    changed after it was signed, sent by a service that does not own its
    aggregate, or naming another aggregate than its payload does. Poison like
    any ``InvalidEvent``: no retry makes it true.
    """

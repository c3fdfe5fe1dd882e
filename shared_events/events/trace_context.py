"""W3C Trace Context: the ``traceparent`` that ties one request's events together.

A traceparent reads ``00-<trace id: 32 hex>-<parent span id: 16 hex>-<flags>``.
Notice what a follow-up event does with it: it keeps the *trace id* (so Zipkin
or Jaeger draws the customer deletion and the order cancellation it caused on
one timeline) and gets a new *span id* (its own step on that timeline). That
is the tracing twin of ``correlation_id`` and ``causation_id`` in the
envelope. Written by hand because it is a dozen lines; an OpenTelemetry SDK
would own this once tracing arrives.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

TRACEPARENT_PATTERN = (
    r"^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$(?!\n)"
)
"""Version 00 only; all-zero trace and span ids are invalid per the W3C spec.
The trailing ``(?!\\n)`` stops Python's ``$`` from accepting a final newline."""

SAMPLED = "01"
_TRACEPARENT = re.compile(TRACEPARENT_PATTERN)


def _random_hex(length: int) -> str:
    while True:
        value = secrets.token_hex(length // 2)
        if value.strip("0"):  # all zeros is the spec's "invalid" value
            return value


def is_traceparent(value: object) -> bool:
    """True for a well-formed version-00 traceparent."""
    return isinstance(value, str) and _TRACEPARENT.search(value) is not None


def new_traceparent() -> str:
    """Start a new trace: fresh trace id, fresh span id, sampled."""
    return f"00-{_random_hex(32)}-{_random_hex(16)}-{SAMPLED}"


def trace_id_of(traceparent: str) -> str:
    """The 32-hex trace id, shared by every span of one trace."""
    return traceparent.split("-")[1]


def span_id_of(traceparent: str) -> str:
    """The 16-hex id of the span that this traceparent names."""
    return traceparent.split("-")[2]


def new_trace_context() -> dict[str, str]:
    """A trace context for an event that starts a new trace."""
    return {"traceparent": new_traceparent()}


def child_trace_context(parent: Mapping[str, str]) -> dict[str, str]:
    """A trace context one step below ``parent``: same trace id, new span id.

    ``tracestate`` and any other vendor keys travel along unchanged; the flags
    are kept so a sampling decision made upstream is honoured downstream.
    """
    version, trace_id, _parent_span, flags = parent["traceparent"].split("-")
    child = dict(parent)
    child["traceparent"] = f"{version}-{trace_id}-{_random_hex(16)}-{flags}"
    return child

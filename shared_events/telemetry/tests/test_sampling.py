"""Which traces are kept: entry points only, and of those the configured share."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import SpanKind

from shared_events.telemetry.tracing import CREATE, _entry_points

TRACE_IDS = range(1, 2**64, 2**54 + 12345)


def decisions(ratio: float, kind: SpanKind, attributes=None) -> list[Decision]:
    sampler = _entry_points(ratio)
    return [
        sampler.should_sample(None, trace_id, "span", kind, attributes).decision
        for trace_id in TRACE_IDS
    ]


@pytest.mark.parametrize(
    "kind", [SpanKind.CLIENT, SpanKind.CONSUMER, SpanKind.INTERNAL]
)
def test_a_poll_or_a_statement_starts_no_trace(kind):
    assert set(decisions(1.0, kind)) == {Decision.DROP}


def test_a_request_or_a_recorded_event_starts_one():
    assert set(decisions(1.0, SpanKind.SERVER)) == {Decision.RECORD_AND_SAMPLE}
    recorded = decisions(1.0, SpanKind.PRODUCER, {"messaging.operation.type": CREATE})
    assert set(recorded) == {Decision.RECORD_AND_SAMPLE}
    # Celery's timer publishing its sweep task is a producer too, not an event.
    assert set(decisions(1.0, SpanKind.PRODUCER)) == {Decision.DROP}


def test_a_ratio_keeps_that_share_of_the_requests_by_trace_id():
    kept = decisions(0.25, SpanKind.SERVER).count(Decision.RECORD_AND_SAMPLE)
    assert 0.15 * len(TRACE_IDS) < kept < 0.35 * len(TRACE_IDS)
    # Decided by the trace id alone: every process of a trace agrees.
    assert decisions(0.25, SpanKind.SERVER) == decisions(0.25, SpanKind.SERVER)
    assert set(decisions(0.0, SpanKind.SERVER)) == {Decision.DROP}

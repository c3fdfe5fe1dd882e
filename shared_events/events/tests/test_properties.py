"""Property test: any valid OrderPlaced survives the wire unchanged."""

from __future__ import annotations

from datetime import UTC

from hypothesis import given
from hypothesis import strategies as st

from shared_events.events import EventEnvelope, encode, from_json, to_json

UUID_TEXT = st.uuids().map(str)
UNIT_PRICE = st.from_regex(r"[0-9]{1,10}(\.[0-9]{1,2})?", fullmatch=True)
TOTAL = st.from_regex(r"[0-9]{1,12}(\.[0-9]{1,2})?", fullmatch=True)
LINE = st.fixed_dictionaries(
    {
        "sku": st.text(min_size=1, max_size=64),
        "quantity": st.integers(min_value=1, max_value=2**63),
        "unit_price": UNIT_PRICE,
    }
)
TRACE_CONTEXT = st.fixed_dictionaries(
    {
        "traceparent": st.from_regex(
            r"00-[0-9a-f]{31}[1-9a-f]-[1-9a-f][0-9a-f]{15}-[0-9a-f]{2}",
            fullmatch=True,
        )
    },
    optional={"tracestate": st.text(max_size=64)},
)


@st.composite
def order_placed(draw: st.DrawFn) -> EventEnvelope:
    order_id = draw(UUID_TEXT)
    return EventEnvelope(
        event_id=draw(st.uuids()),
        event_type="OrderPlaced",
        schema_version=1,
        aggregate_type="Order",
        aggregate_id=order_id,
        aggregate_version=draw(st.integers(min_value=1, max_value=2**63)),
        occurred_at=draw(st.datetimes(timezones=st.just(UTC))),
        producer="order",
        correlation_id=draw(st.uuids()),
        causation_id=draw(st.none() | st.uuids()),
        trace_context=draw(TRACE_CONTEXT),
        payload={
            "order_id": order_id,
            "customer_id": draw(UUID_TEXT),
            "lines": draw(st.lists(LINE, min_size=1, max_size=10)),
            "total": draw(TOTAL),
        },
    )


@given(order_placed())
def test_any_valid_order_placed_round_trips_unchanged(envelope: EventEnvelope) -> None:
    text = encode(envelope)

    decoded = from_json(text)

    assert decoded == envelope
    assert to_json(decoded) == text

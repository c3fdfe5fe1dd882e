"""Property tests: any valid OrderPlaced survives the wire unchanged, and the
producer's shortcut check agrees with the full one."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

from hypothesis import given, reject, settings
from hypothesis import strategies as st

from shared_events.events import (
    REGISTRY,
    EventEnvelope,
    InvalidEvent,
    encode,
    from_json,
    to_dict,
    to_json,
)
from shared_events.events.tests.examples import EXAMPLE_PAYLOADS

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


def _valid(check) -> bool:
    try:
        check()
    except InvalidEvent:
        return False
    return True


ANY_OFFSET = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
)
# One field at a time is given anything the constructor accepts, so every
# rule of the envelope schema gets its chance to be the only one broken.
ANY_FIELD_VALUE = {
    "event_type": st.sampled_from(["CustomerRenamed", "Nope", "x", "order_placed"]),
    "schema_version": st.integers(min_value=1, max_value=3),
    "aggregate_type": st.sampled_from(["Customer", "Order", "Other", "x"]),
    "aggregate_id": st.uuids().map(str) | st.text(max_size=300),
    "aggregate_version": st.integers(min_value=1, max_value=2**63),
    "occurred_at": st.datetimes(timezones=ANY_OFFSET),
    "producer": st.sampled_from(["customer", "order", "billing", ""]) | st.text(),
    "causation_id": st.none() | st.uuids(),
    "trace_context": st.builds(
        lambda extra, trace: {**extra, **trace},
        st.dictionaries(
            st.text(max_size=12),
            st.text(max_size=600) | st.integers() | st.none(),
            max_size=2,
        ),
        TRACE_CONTEXT,
    ),
    "payload": st.sampled_from(list(EXAMPLE_PAYLOADS.values())),
}


@st.composite
def constructed_envelope(draw: st.DrawFn) -> EventEnvelope:
    """A valid envelope with one field replaced by anything the constructor takes."""
    event_type, version = draw(st.sampled_from(REGISTRY.known_types()))
    fields = {
        "event_id": draw(st.uuids()),
        "event_type": event_type,
        "schema_version": version,
        "aggregate_type": REGISTRY.aggregate_type_for(event_type, version),
        "aggregate_id": draw(st.uuids().map(str)),
        "aggregate_version": 1,
        "occurred_at": draw(st.datetimes(timezones=st.just(UTC))),
        "producer": "customer",
        "correlation_id": draw(st.uuids()),
        "causation_id": None,
        "trace_context": draw(TRACE_CONTEXT),
        "payload": EXAMPLE_PAYLOADS[event_type],
    }
    name = draw(st.sampled_from(sorted(ANY_FIELD_VALUE)))
    fields[name] = draw(ANY_FIELD_VALUE[name])
    try:
        return EventEnvelope(**fields)
    except InvalidEvent:
        reject()


@settings(max_examples=300)
@given(constructed_envelope())
def test_the_producer_shortcut_accepts_exactly_what_the_full_check_accepts(
    envelope: EventEnvelope,
) -> None:
    # encode skips the envelope schema, which the constructor enforces; for
    # anything the constructor lets through, the verdict must not change.
    data = to_dict(envelope)

    full = _valid(lambda: REGISTRY.validate(data))
    shortcut = _valid(lambda: REGISTRY.validate(data, constructed=True))

    assert shortcut == full
    assert _valid(lambda: encode(envelope)) == full

"""Building, serializing and reading back envelopes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from shared_events.events import (
    ENVELOPE_FIELDS,
    REGISTRY,
    EventEnvelope,
    EventType,
    InvalidEvent,
    caused_by,
    encode,
    from_dict,
    from_json,
    is_traceparent,
    new_envelope,
    span_id_of,
    to_dict,
    to_json,
    trace_id_of,
)
from shared_events.events.tests.examples import (
    EXAMPLE_PAYLOADS,
    ORDER_ID,
    example_envelope,
)


def test_every_registered_type_has_an_example() -> None:
    assert {event_type for event_type, _ in REGISTRY.known_types()} == set(
        EXAMPLE_PAYLOADS
    )


@pytest.mark.parametrize(("event_type", "version"), REGISTRY.known_types())
def test_every_registered_type_round_trips(event_type: str, version: int) -> None:
    envelope = example_envelope(event_type, schema_version=version)

    text = encode(envelope)

    assert from_json(text) == envelope
    assert from_json(text.encode("utf-8")) == envelope
    assert from_dict(json.loads(text)) == envelope
    assert {envelope, from_json(text)} == {envelope}


def test_envelope_has_exactly_the_design_fields() -> None:
    assert set(to_dict(example_envelope())) == set(ENVELOPE_FIELDS)
    assert len(ENVELOPE_FIELDS) == 12


def test_json_is_compact_sorted_and_deterministic() -> None:
    envelope = example_envelope()
    reordered = example_envelope(
        payload=dict(reversed(list(EXAMPLE_PAYLOADS["OrderPlaced"].items())))
    )
    reordered = EventEnvelope(**{**vars(reordered), "event_id": envelope.event_id})

    text = to_json(envelope)

    assert text == to_json(envelope) == to_json(reordered)
    assert to_json(from_json(text)) == text
    assert ": " not in text and ", " not in text
    assert list(json.loads(text)) == sorted(ENVELOPE_FIELDS)


def test_json_is_ascii_so_no_broker_can_refuse_a_character() -> None:
    envelope = example_envelope(
        "CustomerRenamed",
        payload={
            "customer_id": example_envelope().payload["customer_id"],
            "name": "Zoë \ufffe",
        },
    )

    text = encode(envelope)

    assert text.isascii()
    assert from_json(text).payload["name"] == "Zoë \ufffe"


def test_new_envelope_fills_in_a_new_conversation() -> None:
    before = datetime.now(UTC)
    envelope = new_envelope(
        event_type=EventType.CUSTOMER_DELETED,
        aggregate_type="Customer",
        aggregate_id=UUID(EXAMPLE_PAYLOADS["CustomerDeleted"]["customer_id"]),
        aggregate_version=4,
        producer="customer",
        payload=EXAMPLE_PAYLOADS["CustomerDeleted"],
    )

    assert envelope.schema_version == 1
    assert envelope.event_id.version == 4
    assert envelope.correlation_id == envelope.event_id
    assert envelope.causation_id is None
    assert is_traceparent(envelope.traceparent)
    assert before <= envelope.occurred_at <= datetime.now(UTC)
    assert envelope.occurred_at.tzinfo is UTC
    assert type(envelope.event_type) is str  # the StrEnum became a plain str
    assert envelope.aggregate_id == EXAMPLE_PAYLOADS["CustomerDeleted"]["customer_id"]
    assert from_json(encode(envelope)) == envelope


def test_two_new_envelopes_never_share_ids_or_traces() -> None:
    first, second = (
        example_envelope(trace_context=None),
        example_envelope(trace_context=None),
    )
    assert first.event_id != second.event_id
    assert trace_id_of(first.traceparent) != trace_id_of(second.traceparent)


def test_envelope_owns_its_payload() -> None:
    payload = {"customer_id": ORDER_ID}
    envelope = example_envelope("CustomerDeleted", payload=payload)
    payload["customer_id"] = "changed"
    assert envelope.payload == {"customer_id": ORDER_ID}


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (
            datetime(2024, 5, 17, 9, 30, 0, 123456, tzinfo=UTC),
            "2024-05-17T09:30:00.123456Z",
        ),
        (datetime(2024, 5, 17, 9, 30, tzinfo=UTC), "2024-05-17T09:30:00.000000Z"),
        (
            datetime(2024, 5, 17, 11, 30, 0, 5, tzinfo=timezone(timedelta(hours=2))),
            "2024-05-17T09:30:00.000005Z",
        ),
    ],
)
def test_occurred_at_is_written_in_utc_with_microseconds(
    moment: datetime, written: str
) -> None:
    envelope = example_envelope(occurred_at=moment)

    assert json.loads(to_json(envelope))["occurred_at"] == written
    assert from_json(to_json(envelope)).occurred_at == moment


def test_occurred_at_may_arrive_with_plus_zero_offset_and_fewer_digits() -> None:
    data = json.loads(encode(example_envelope()))
    data["occurred_at"] = "2024-05-17T09:30:00.5+00:00"

    envelope = from_dict(data)

    assert envelope.occurred_at == datetime(2024, 5, 17, 9, 30, 0, 500000, tzinfo=UTC)


def test_a_naive_datetime_is_refused_when_building() -> None:
    with pytest.raises(InvalidEvent, match="occurred_at: must be a timezone-aware"):
        example_envelope(occurred_at=datetime(2024, 5, 17, 9, 30))


TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"producer": "billing"}, "producer: must be one of customer, order"),
        ({"aggregate_id": ""}, "aggregate_id: must be 1 to 255 characters"),
        ({"aggregate_id": "x" * 256}, "aggregate_id: must be 1 to 255 characters"),
        (
            {"trace_context": {"traceparent": TRACEPARENT, "tracestate": "x" * 513}},
            "trace_context: values must be strings of at most 512",
        ),
        (
            {"trace_context": {"traceparent": TRACEPARENT, "sampled": True}},
            "trace_context: values must be strings",
        ),
    ],
    ids=["producer", "empty id", "long id", "long tracestate", "not a string"],
)
def test_the_envelope_schema_is_enforced_when_building(changes, reason) -> None:
    # So encode, the producer's check, need only ask the registry.
    with pytest.raises(InvalidEvent, match=reason):
        example_envelope(**changes)


def test_a_decimal_in_the_payload_is_refused_with_a_hint() -> None:
    payload = {**EXAMPLE_PAYLOADS["OrderPlaced"], "total": Decimal("59.97")}
    envelope = example_envelope(payload=payload)

    with pytest.raises(InvalidEvent, match=r'payload\.total: Decimal .*"59\.97"'):
        to_json(envelope)
    with pytest.raises(InvalidEvent, match=r"payload\.total: Decimal\('59\.97'\)"):
        encode(envelope)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ((1, 2), "payload.blob: tuple is not a JSON value"),
        ({1: "x"}, "payload.blob: key 1 is not a string"),
        (float("nan"), "payload.blob: nan is not valid JSON"),
        ([UUID(ORDER_ID)], "payload.blob[0]: UUID is not a JSON value"),
    ],
)
def test_values_that_would_not_survive_json_are_refused(
    value: object, reason: str
) -> None:
    envelope = example_envelope(payload={"blob": value})
    with pytest.raises(InvalidEvent) as caught:
        to_json(envelope)
    assert caught.value.reason == reason


def _order_answer(
    parent: EventEnvelope, event_type: str, *, version: int
) -> EventEnvelope:
    """The order service's example ``event_type``, caused by ``parent``."""
    return caused_by(
        parent,
        event_type=event_type,
        aggregate_type="Order",
        aggregate_id=ORDER_ID,
        aggregate_version=version,
        producer="order",
        payload=EXAMPLE_PAYLOADS[event_type],
    )


def test_caused_by_continues_the_conversation_and_the_trace() -> None:
    parent = example_envelope("CustomerDeleted")

    child = _order_answer(parent, "OrderCancelled", version=2)

    assert child.correlation_id == parent.correlation_id
    assert child.causation_id == parent.event_id
    assert child.event_id not in (parent.event_id, parent.correlation_id)
    assert trace_id_of(child.traceparent) == trace_id_of(parent.traceparent)
    assert span_id_of(child.traceparent) != span_id_of(parent.traceparent)
    assert child.traceparent.endswith(parent.traceparent[-3:])  # flags kept
    assert from_json(encode(child)) == child


def test_caused_by_carries_tracestate_along() -> None:
    parent = example_envelope(
        trace_context={
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            "tracestate": "vendor=abc",
        }
    )
    child = _order_answer(parent, "OrderRejected", version=1)
    assert child.trace_context["tracestate"] == "vendor=abc"
    assert child.traceparent.endswith("-00")


def test_importing_the_package_does_not_need_django() -> None:
    code = (
        "import sys, shared_events.events; "
        "assert 'django' not in sys.modules, 'django was imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr

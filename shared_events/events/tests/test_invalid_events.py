"""Every way an event can be wrong raises InvalidEvent with a reason naming where.

A consumer sends these to the dead-letter queue with ``error.reason``; the
table below is what an operator would read there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shared_events.events import EventTooLarge, InvalidEvent, from_json
from shared_events.events.tests.examples import example_dict

_DELETE = object()


def changed(path: str, value: Any, event_type: str = "OrderPlaced") -> str:
    """A valid envelope's JSON with the value at dotted ``path`` set or deleted."""
    data = example_dict(event_type)
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    key: Any = int(last) if last.isdigit() else last
    if value is _DELETE:
        del target[key]
    else:
        target[key] = value
    return json.dumps(data)


KOMBU_MESSAGE = json.dumps(
    {
        "body": "eyJldmVudF9pZCI6ICIuLi4ifQ==",
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {},
        "properties": {"delivery_tag": "x", "body_encoding": "base64"},
    }
)

BROKEN: list[tuple[str, Callable[[], str | bytes], str]] = [
    # not JSON, not an object
    ("not JSON", lambda: "{not json", "not JSON: Expecting property name"),
    ("empty body", lambda: "", "not JSON: Expecting value"),
    ("NaN", lambda: '{"a": NaN}', "not JSON: NaN is not a JSON number"),
    ("duplicate key", lambda: '{"a": 1, "a": 2}', "duplicate key 'a'"),
    ("not UTF-8", lambda: b'{"a": "\xff"}', "not UTF-8 text"),
    ("array", lambda: "[]", "envelope: expected a JSON object, got list"),
    ("string", lambda: '"OrderPlaced"', "envelope: expected a JSON object, got str"),
    # missing or extra envelope fields
    (
        "missing event_id",
        lambda: changed("event_id", _DELETE),
        "envelope: 'event_id' is a required property",
    ),
    (
        "missing payload",
        lambda: changed("payload", _DELETE),
        "envelope: 'payload' is a required property",
    ),
    (
        "extra field",
        lambda: changed("priority", 1),
        "envelope: Additional properties are not allowed ('priority' was unexpected)",
    ),
    ("kombu message", lambda: KOMBU_MESSAGE, "envelope: "),
    # wrong types and values in the envelope
    ("event_id not uuid", lambda: changed("event_id", "42"), "event_id: '42'"),
    (
        "uppercase uuid",
        lambda: changed("correlation_id", "6F1C2F8E-8A43-4D0C-B4EA-3D9A4F3B2C11"),
        "correlation_id: '6F1C2F8E",
    ),
    (
        "causation_id number",
        lambda: changed("causation_id", 7),
        "causation_id: 7 is not of type 'string', 'null'",
    ),
    ("causation_id not uuid", lambda: changed("causation_id", "nope"), "causation_id:"),
    (
        "schema_version string",
        lambda: changed("schema_version", "1"),
        "schema_version: '1' is not of type 'integer'",
    ),
    (
        "schema_version float",
        lambda: changed("schema_version", 1.0),
        "schema_version: 1.0 is not of type 'integer'",
    ),
    (
        "aggregate_version bool",
        lambda: changed("aggregate_version", True),
        "aggregate_version: True is not of type 'integer'",
    ),
    (
        "aggregate_version zero",
        lambda: changed("aggregate_version", 0),
        "aggregate_version: 0 is less than the minimum of 1",
    ),
    (
        "aggregate_id empty",
        lambda: changed("aggregate_id", ""),
        "aggregate_id: '' should be non-empty",
    ),
    (
        "naive occurred_at",
        lambda: changed("occurred_at", "2024-05-17T09:30:00"),
        "occurred_at: '2024-05-17T09:30:00' is not a 'date-time'",
    ),
    (
        "non-UTC occurred_at",
        lambda: changed("occurred_at", "2024-05-17T11:30:00+02:00"),
        "occurred_at: '2024-05-17T11:30:00+02:00' does not match",
    ),
    (
        "impossible date",
        lambda: changed("occurred_at", "2024-02-30T09:30:00Z"),
        "occurred_at: '2024-02-30T09:30:00Z' is not a 'date-time'",
    ),
    (
        "unknown producer",
        lambda: changed("producer", "billing"),
        "producer: 'billing' is not one of ['customer', 'order']",
    ),
    (
        "event_type not PascalCase",
        lambda: changed("event_type", "order_placed"),
        "event_type: 'order_placed' does not match",
    ),
    (
        "no traceparent",
        lambda: changed("trace_context.traceparent", _DELETE),
        "trace_context: 'traceparent' is a required property",
    ),
    (
        "malformed traceparent",
        lambda: changed("trace_context.traceparent", "00-abc-def-01"),
        "trace_context.traceparent: '00-abc-def-01' does not match",
    ),
    (
        "all-zero trace id",
        lambda: changed(
            "trace_context.traceparent", f"00-{'0' * 32}-00f067aa0ba902b7-01"
        ),
        "trace_context.traceparent:",
    ),
    ("payload not object", lambda: changed("payload", []), "payload: [] is not of"),
    # unknown to the registry
    (
        "unknown event type",
        lambda: changed("event_type", "OrderExploded"),
        "event_type: unknown event type 'OrderExploded'",
    ),
    (
        "unknown version",
        lambda: changed("schema_version", 2),
        "schema_version: unknown version 2 of OrderPlaced (known: 1)",
    ),
    (
        "wrong aggregate",
        lambda: changed("aggregate_type", "Customer"),
        "aggregate_type: 'Customer' is not 'Order', the aggregate of OrderPlaced v1",
    ),
    # payload failing its schema
    (
        "negative quantity",
        lambda: changed("payload.lines.0.quantity", -1),
        "payload.lines[0].quantity: -1 is less than the minimum of 1",
    ),
    (
        "float quantity",
        lambda: changed("payload.lines.1.quantity", 2.0),
        "payload.lines[1].quantity: 2.0 is not of type 'integer'",
    ),
    (
        "no lines",
        lambda: changed("payload.lines", []),
        "payload.lines: [] should be non-empty",
    ),
    (
        "sku too long",
        lambda: changed("payload.lines.0.sku", "X" * 65),
        "payload.lines[0].sku: 'XXXX",
    ),
    (
        "three decimals",
        lambda: changed("payload.lines.0.unit_price", "19.999"),
        "payload.lines[0].unit_price: '19.999' does not match",
    ),
    (
        "money as a number",
        lambda: changed("payload.total", 59.97),
        "payload.total: 59.97 is not of type 'string'",
    ),
    (
        "trailing newline",
        lambda: changed("payload.total", "59.97\n"),
        "payload.total: '59.97\\n' does not match",
    ),
    (
        "non-ASCII digits",
        lambda: changed("payload.total", "\u0665\u0669"),
        "payload.total:",
    ),
    (
        "missing total",
        lambda: changed("payload.total", _DELETE),
        "payload: 'total' is a required property",
    ),
    (
        "extra line field",
        lambda: changed("payload.lines.0.discount", "1.00"),
        "payload.lines[0]: Additional properties are not allowed ('discount'",
    ),
    (
        "properties key in payload",
        lambda: changed("payload.properties", {"delivery_tag": "x"}),
        "payload: Additional properties are not allowed ('properties' was unexpected)",
    ),
    (
        "customer_id not uuid",
        lambda: changed("payload.customer_id", "cust-1"),
        "payload.customer_id: 'cust-1'",
    ),
    (
        "bad email",
        lambda: changed("payload.email", "nobody", "CustomerRegistered"),
        "payload.email: 'nobody' is not a 'email'",
    ),
    (
        "empty name",
        lambda: changed("payload.name", "", "CustomerRenamed"),
        "payload.name: '' should be non-empty",
    ),
    (
        "cancel reason not in enum",
        lambda: changed("payload.reason", "bored", "OrderCancelled"),
        "payload.reason: 'bored' is not one of ['customer_request', 'customer_",
    ),
    # size
    (
        "too large",
        lambda: changed("payload.lines.0.sku", "x" * (256 * 1024)),
        "; the cap is 261120 bytes",
    ),
    ("too large bytes", lambda: b" " * (255 * 1024 + 1), "the cap is 261120 bytes"),
]


@pytest.mark.parametrize(
    ("make_text", "reason"),
    [pytest.param(make, reason, id=name) for name, make, reason in BROKEN],
)
def test_broken_envelope_is_refused_with_a_reason(
    make_text: Callable[[], str | bytes], reason: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        from_json(make_text())
    assert reason in caught.value.reason
    assert str(caught.value) == caught.value.reason


def test_a_kombu_message_is_never_mistaken_for_an_envelope() -> None:
    with pytest.raises(InvalidEvent) as caught:
        from_json(KOMBU_MESSAGE)
    # Refused at the envelope level, before any payload schema is consulted.
    assert caught.value.reason.startswith("envelope: ")


def test_too_large_is_an_invalid_event_with_the_numbers() -> None:
    with pytest.raises(EventTooLarge) as caught:
        from_json(changed("payload.lines.0.sku", "x" * (256 * 1024)))
    assert caught.value.limit == 255 * 1024
    assert caught.value.size > caught.value.limit


def test_reasons_stay_short_even_for_huge_values() -> None:
    with pytest.raises(InvalidEvent) as caught:
        from_json(changed("payload.lines.0.sku", "x" * 100_000))
    assert len(caught.value.reason) <= 500
    assert caught.value.reason.startswith("payload.lines[0].sku: 'xxx")


def test_a_deeply_nested_body_is_refused_not_crashing() -> None:
    with pytest.raises(InvalidEvent, match="not JSON"):
        from_json("[" * 200_000)

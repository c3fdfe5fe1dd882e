"""The size cap: exactly the cap passes, one byte more is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared_events.events import (
    MAX_ENVELOPE_BYTES,
    MAX_EVENT_BYTES,
    EventEnvelope,
    EventSchemaRegistry,
    EventTooLarge,
    InvalidEvent,
    check_size,
    encode,
    from_json,
    new_envelope,
    to_json,
)
from shared_events.events.tests.examples import example_envelope


def test_the_caps_follow_the_sqs_limit_with_headroom_for_attributes() -> None:
    assert MAX_EVENT_BYTES == 256 * 1024
    assert MAX_ENVELOPE_BYTES == 255 * 1024


def test_check_size_at_the_exact_boundary() -> None:
    assert check_size("a" * MAX_ENVELOPE_BYTES) == MAX_ENVELOPE_BYTES

    with pytest.raises(EventTooLarge) as caught:
        check_size("a" * (MAX_ENVELOPE_BYTES + 1))

    assert (caught.value.size, caught.value.limit) == (
        MAX_ENVELOPE_BYTES + 1,
        MAX_ENVELOPE_BYTES,
    )
    assert isinstance(caught.value, InvalidEvent)
    assert caught.value.reason == (
        "event is 261121 bytes encoded as UTF-8 JSON; the cap is 261120 bytes"
    )


def test_check_size_counts_utf8_bytes_not_characters() -> None:
    two_byte = "\u00e9"  # é
    assert check_size(two_byte * (MAX_ENVELOPE_BYTES // 2)) == MAX_ENVELOPE_BYTES
    with pytest.raises(EventTooLarge):
        check_size(two_byte * (MAX_ENVELOPE_BYTES // 2) + "a")


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="not encodable as UTF-8"):
        check_size("\ud800")


def _blob_registry() -> EventSchemaRegistry:
    registry = EventSchemaRegistry()
    registry.register(
        "BlobRecorded",
        1,
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {"blob": {"type": "string"}},
        },
        aggregate_type="Blob",
    )
    return registry


def _blob_recorded(blob: str, **fields: Any) -> EventEnvelope:
    return new_envelope(
        event_type="BlobRecorded",
        aggregate_type="Blob",
        aggregate_id="blob-1",
        aggregate_version=1,
        producer="order",
        payload={"blob": blob},
        **fields,
    )


def _blob_envelope_of_size(size: int) -> EventEnvelope:
    empty = _blob_recorded("")
    padding = size - len(to_json(empty).encode("utf-8"))
    envelope = _blob_recorded("x" * padding, occurred_at=empty.occurred_at)
    assert len(to_json(envelope).encode("utf-8")) == size
    return envelope


def test_an_envelope_of_exactly_the_cap_is_encoded_and_read_back() -> None:
    registry = _blob_registry()
    envelope = _blob_envelope_of_size(MAX_ENVELOPE_BYTES)

    text = encode(envelope, registry=registry)

    assert len(text.encode("utf-8")) == MAX_ENVELOPE_BYTES
    assert from_json(text, registry=registry) == envelope
    assert from_json(text.encode("utf-8"), registry=registry) == envelope


def test_one_byte_over_the_cap_is_refused_by_producer_and_consumer() -> None:
    registry = _blob_registry()
    envelope = _blob_envelope_of_size(MAX_ENVELOPE_BYTES + 1)

    with pytest.raises(EventTooLarge):
        encode(envelope, registry=registry)
    with pytest.raises(EventTooLarge):
        from_json(to_json(envelope), registry=registry)
    with pytest.raises(EventTooLarge):
        from_json(to_json(envelope).encode("utf-8"), registry=registry)


def test_a_huge_order_is_refused_at_write_time() -> None:
    template = example_envelope()
    line = {"sku": "S" * 64, "quantity": 1, "unit_price": "1.00"}
    payload = {**template.payload, "lines": [line] * 3000, "total": "3000.00"}
    huge = example_envelope(payload=payload)

    with pytest.raises(EventTooLarge) as caught:
        encode(huge)

    assert caught.value.size == len(to_json(huge))
    assert json.loads(to_json(huge))["payload"]["total"] == "3000.00"


def test_a_smaller_cap_can_be_chosen() -> None:
    with pytest.raises(EventTooLarge, match="the cap is 100 bytes"):
        encode(example_envelope(), limit=100)

"""The registry: one place that says which events exist and what they carry."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from shared_events.events import (
    ENVELOPE_SCHEMA,
    REGISTRY,
    EventSchemaRegistry,
    InvalidEvent,
    encode,
    from_json,
    register_platform_events,
)
from shared_events.events.registry import FORMAT_CHECKER
from shared_events.events.tests.examples import EXAMPLE_PAYLOADS, example_envelope

PLATFORM_EVENTS = (
    ("CreditLimitExceeded", 1),
    ("CreditReleased", 1),
    ("CreditReserved", 1),
    ("CustomerAddressChanged", 1),
    ("CustomerDeleted", 1),
    ("CustomerDeletionRejected", 1),
    ("CustomerEmailChanged", 1),
    ("CustomerImported", 1),
    ("CustomerRegistered", 1),
    ("CustomerRenamed", 1),
    ("OrderApproved", 1),
    ("OrderCancelled", 1),
    ("OrderImported", 1),
    ("OrderPlaced", 1),
    ("OrderRejected", 1),
)


def test_the_default_registry_knows_the_platform_events() -> None:
    assert REGISTRY.known_types() == PLATFORM_EVENTS


@pytest.mark.parametrize(("event_type", "version"), PLATFORM_EVENTS)
def test_every_payload_schema_is_closed_and_valid_2020_12(
    event_type: str, version: int
) -> None:
    schema = REGISTRY.schema_for(event_type, version)

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"])
    assert set(schema["properties"]) == set(EXAMPLE_PAYLOADS[event_type])


def test_the_envelope_schema_is_closed_and_valid_2020_12() -> None:
    Draft202012Validator.check_schema(ENVELOPE_SCHEMA)
    assert ENVELOPE_SCHEMA["additionalProperties"] is False


def test_aggregate_types() -> None:
    assert REGISTRY.aggregate_type_for("CustomerDeleted", 1) == "Customer"
    assert REGISTRY.aggregate_type_for("OrderPlaced", 1) == "Order"


def test_schema_for_returns_a_copy() -> None:
    REGISTRY.schema_for("OrderPlaced", 1)["properties"].clear()
    assert "lines" in REGISTRY.schema_for("OrderPlaced", 1)["properties"]


@pytest.mark.parametrize(
    ("event_type", "version", "reason"),
    [
        ("OrderShipped", 1, "event_type: unknown event type 'OrderShipped'"),
        ("OrderPlaced", 3, "schema_version: unknown version 3 of OrderPlaced"),
    ],
)
def test_schema_for_an_unknown_event(
    event_type: str, version: int, reason: str
) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        REGISTRY.schema_for(event_type, version)


def test_a_published_schema_cannot_be_replaced() -> None:
    registry = register_platform_events(EventSchemaRegistry())
    with pytest.raises(ValueError, match="register a new schema_version"):
        registry.register(
            "OrderPlaced",
            1,
            REGISTRY.schema_for("OrderPlaced", 1),
            aggregate_type="Order",
        )


@pytest.mark.parametrize(
    ("event_type", "version", "schema", "message"),
    [
        (
            "order_placed",
            2,
            {"type": "object", "additionalProperties": False},
            "Pascal",
        ),
        ("OrderPlaced", 0, {"type": "object", "additionalProperties": False}, ">= 1"),
        ("OrderPlaced", 2, {"type": "object"}, "additionalProperties false"),
        ("OrderPlaced", 2, {"type": "array", "additionalProperties": False}, "object"),
    ],
)
def test_register_refuses_bad_definitions(
    event_type: str, version: int, schema: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        EventSchemaRegistry().register(
            event_type, version, schema, aggregate_type="Order"
        )


def test_a_new_version_lives_beside_the_old_one() -> None:
    registry = register_platform_events(EventSchemaRegistry())
    v2 = REGISTRY.schema_for("OrderPlaced", 1)
    v2["properties"]["currency"] = {"enum": ["EUR", "USD"]}
    v2["required"].append("currency")
    registry.register("OrderPlaced", 2, v2, aggregate_type="Order")

    old = example_envelope()
    new = example_envelope(
        schema_version=2, payload={**EXAMPLE_PAYLOADS["OrderPlaced"], "currency": "EUR"}
    )

    assert from_json(encode(old, registry=registry), registry=registry) == old
    assert from_json(encode(new, registry=registry), registry=registry) == new
    with pytest.raises(InvalidEvent, match="unknown version 2 of OrderPlaced"):
        encode(new)  # the default registry has not heard of v2


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2024-05-17T09:30:00Z", True),
        ("2024-05-17t09:30:00.1234567+02:00", True),
        ("2024-05-17T09:30:00", False),
        ("2024-05-17 09:30:00Z", False),
        ("20240517T093000Z", False),
        ("2023-02-29T00:00:00Z", False),
    ],
)
def test_date_time_format_is_checked_without_optional_packages(
    value: str, valid: bool
) -> None:
    assert FORMAT_CHECKER.conforms(value, "date-time") is valid


def test_the_format_checker_covers_uuid_and_email() -> None:
    assert FORMAT_CHECKER.conforms("3f2504e0-4f89-41d3-9a0c-0305e82c3301", "uuid")
    assert not FORMAT_CHECKER.conforms("3f2504e04f8941d39a0c0305e82c3301", "uuid")
    assert not FORMAT_CHECKER.conforms("nobody", "email")

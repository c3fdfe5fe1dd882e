"""The platform's events, registered in one explicit place.

Read this file as the contract between the customer and order services: every
event that crosses a service boundary is listed here with the exact payload
it carries. Notice:

* ``CustomerDeletionRejected`` and ``OrderRejected`` are events too. The
  paper's rule is that a refused command is recorded, not just answered with
  an error, so the history explains what happened *and* what was turned down.
* A rule that spans both services, the customer's credit limit, is a saga
  of events (``OrderPlaced`` then ``CreditReserved`` or ``CreditLimitExceeded``
  then ``OrderApproved`` or ``OrderRejected``; ``CreditReleased`` undoes a
  reservation when an order is cancelled): each service decides what it owns,
  and no transaction spans the two.
* Money travels as a decimal *string* ("59.97"), never a JSON number: a float
  cannot hold 0.1 exactly, and a consumer in another language must not have
  to guess the precision. The patterns mirror the database columns
  (``unit_price`` 12 digits with 2 decimals, ``total`` 14 with 2).
* Every payload schema is closed (``additionalProperties: false``), so a
  misspelled or surplus field is refused at the producer, not discovered by a
  consumer.
* Each aggregate type has one owner (``AGGREGATE_OWNERS``): only the customer
  service speaks for a Customer, only the order service for an Order. A
  consumer refuses a Customer event from anyone else, and one whose
  ``aggregate_id`` is not the payload's own id (``customer_id``, ``order_id``),
  however well it is signed (``shared_events.events.provenance``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared_events.events.envelope_schema import JSON_SCHEMA_DIALECT, UUID_STRING
from shared_events.events.registry import EventSchemaRegistry


class AggregateType(StrEnum):
    CUSTOMER = "Customer"
    ORDER = "Order"


@dataclass(frozen=True)
class Ownership:
    """Who speaks for an aggregate type, and where its payloads name the aggregate."""

    producer: str
    id_field: str


AGGREGATE_OWNERS: Mapping[str, Ownership] = {
    AggregateType.CUSTOMER: Ownership(producer="customer", id_field="customer_id"),
    AggregateType.ORDER: Ownership(producer="order", id_field="order_id"),
}
"""Each aggregate type's one producer (a name of ``PRODUCERS``) and id field."""


class EventType(StrEnum):
    """Names to import instead of typing strings (a typo is then an AttributeError)."""

    CUSTOMER_REGISTERED = "CustomerRegistered"
    CUSTOMER_RENAMED = "CustomerRenamed"
    CUSTOMER_ADDRESS_CHANGED = "CustomerAddressChanged"
    CUSTOMER_EMAIL_CHANGED = "CustomerEmailChanged"
    CUSTOMER_DELETED = "CustomerDeleted"
    CUSTOMER_DELETION_REJECTED = "CustomerDeletionRejected"
    CREDIT_RESERVED = "CreditReserved"
    CREDIT_LIMIT_EXCEEDED = "CreditLimitExceeded"
    CREDIT_RELEASED = "CreditReleased"
    ORDER_PLACED = "OrderPlaced"
    ORDER_CANCELLED = "OrderCancelled"
    ORDER_APPROVED = "OrderApproved"
    ORDER_REJECTED = "OrderRejected"


class OpeningEventType(StrEnum):
    """The opening events a migration writes (``strangler.introduce_events``).

    One per aggregate that existed before the platform kept events: a snapshot
    of its state at the move, version 1 of its history. They are written
    straight into each service's own event store and never published (no
    outbox row), so they do not cross a service boundary and are kept apart
    from ``EventType``, the vocabulary on the wire that every consumer and
    projection must decide about.
    """

    CUSTOMER_IMPORTED = "CustomerImported"
    ORDER_IMPORTED = "OrderImported"


# The reason of an order closed at import because its customer was gone (an
# orphan left by db_per_service): the migration's stated policy.
CUSTOMER_MISSING_AT_IMPORT = "customer_missing_at_import"

# Reusable field shapes, matching the services' model fields.
NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 200}
EMAIL: dict[str, Any] = {
    "type": "string",
    "format": "email",
    "minLength": 3,
    "maxLength": 254,
}
ADDRESS: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 500}
REASON: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 500}
SKU: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 64}
UNIT_PRICE: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[0-9]{1,10}(\.[0-9]{1,2})?$(?!\n)",
}
TOTAL: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$(?!\n)",
}
ORDER_LINE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sku", "quantity", "unit_price"],
    "properties": {
        "sku": SKU,
        "quantity": {"type": "integer", "minimum": 1},
        "unit_price": UNIT_PRICE,
    },
}


def payload_schema(title: str, **properties: dict[str, Any]) -> dict[str, Any]:
    """A closed object schema in which every listed field is required."""
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": title,
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }


def register_platform_events(registry: EventSchemaRegistry) -> EventSchemaRegistry:
    """Register every event of the platform, version by version, on ``registry``."""
    customer = AggregateType.CUSTOMER.value
    order = AggregateType.ORDER.value
    events: list[tuple[EventType | OpeningEventType, int, str, dict[str, Any]]] = [
        (
            EventType.CUSTOMER_REGISTERED,
            1,
            customer,
            payload_schema(
                "CustomerRegistered v1",
                customer_id=UUID_STRING,
                name=NAME,
                email=EMAIL,
                address=ADDRESS,
            ),
        ),
        (
            EventType.CUSTOMER_RENAMED,
            1,
            customer,
            payload_schema("CustomerRenamed v1", customer_id=UUID_STRING, name=NAME),
        ),
        (
            EventType.CUSTOMER_ADDRESS_CHANGED,
            1,
            customer,
            payload_schema(
                "CustomerAddressChanged v1", customer_id=UUID_STRING, address=ADDRESS
            ),
        ),
        (
            EventType.CUSTOMER_EMAIL_CHANGED,
            1,
            customer,
            payload_schema(
                "CustomerEmailChanged v1", customer_id=UUID_STRING, email=EMAIL
            ),
        ),
        (
            EventType.CUSTOMER_DELETED,
            1,
            customer,
            payload_schema("CustomerDeleted v1", customer_id=UUID_STRING),
        ),
        (
            EventType.CUSTOMER_DELETION_REJECTED,
            1,
            customer,
            payload_schema(
                "CustomerDeletionRejected v1", customer_id=UUID_STRING, reason=REASON
            ),
        ),
        (
            EventType.CREDIT_RESERVED,
            1,
            customer,
            payload_schema(
                "CreditReserved v1",
                customer_id=UUID_STRING,
                order_id=UUID_STRING,
                amount=TOTAL,
            ),
        ),
        (
            EventType.CREDIT_LIMIT_EXCEEDED,
            1,
            customer,
            payload_schema(
                "CreditLimitExceeded v1",
                customer_id=UUID_STRING,
                order_id=UUID_STRING,
                amount=TOTAL,
                available=TOTAL,
            ),
        ),
        (
            EventType.CREDIT_RELEASED,
            1,
            customer,
            payload_schema(
                "CreditReleased v1",
                customer_id=UUID_STRING,
                order_id=UUID_STRING,
                amount=TOTAL,
            ),
        ),
        (
            EventType.ORDER_PLACED,
            1,
            order,
            payload_schema(
                "OrderPlaced v1",
                order_id=UUID_STRING,
                customer_id=UUID_STRING,
                lines={"type": "array", "minItems": 1, "items": ORDER_LINE},
                total=TOTAL,
            ),
        ),
        (
            EventType.ORDER_CANCELLED,
            1,
            order,
            payload_schema(
                "OrderCancelled v1",
                order_id=UUID_STRING,
                customer_id=UUID_STRING,
                reason={
                    "enum": [
                        "customer_request",
                        "customer_deleted",
                        CUSTOMER_MISSING_AT_IMPORT,
                    ]
                },
            ),
        ),
        (
            EventType.ORDER_APPROVED,
            1,
            order,
            payload_schema(
                "OrderApproved v1", order_id=UUID_STRING, customer_id=UUID_STRING
            ),
        ),
        (
            EventType.ORDER_REJECTED,
            1,
            order,
            payload_schema(
                "OrderRejected v1",
                order_id=UUID_STRING,
                customer_id=UUID_STRING,
                reason=REASON,
            ),
        ),
        (
            OpeningEventType.CUSTOMER_IMPORTED,
            1,
            customer,
            payload_schema(
                "CustomerImported v1",
                customer_id=UUID_STRING,
                name=NAME,
                email=EMAIL,
                address=ADDRESS,
                # The credit each open order held at the move, by order id:
                # the customer's side of the credit saga starts complete.
                reservations={
                    "type": "object",
                    "propertyNames": UUID_STRING,
                    "additionalProperties": TOTAL,
                },
            ),
        ),
        (
            OpeningEventType.ORDER_IMPORTED,
            1,
            order,
            payload_schema(
                "OrderImported v1",
                order_id=UUID_STRING,
                customer_id=UUID_STRING,
                status={"enum": ["pending", "approved", "rejected", "cancelled"]},
                # An order refused outright may have no lines.
                lines={"type": "array", "items": ORDER_LINE},
                total=TOTAL,
            ),
        ),
    ]
    for event_type, version, aggregate_type, schema in events:
        registry.register(
            event_type.value, version, schema, aggregate_type=aggregate_type
        )
    return registry


REGISTRY: EventSchemaRegistry = register_platform_events(EventSchemaRegistry())
"""The default registry every producer and consumer validates against."""

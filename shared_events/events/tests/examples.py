"""Valid example events, one per registered type, for the tests to start from."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from shared_events.events import EventEnvelope, new_envelope, to_dict

CUSTOMER_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
ORDER_ID = "9b2d3a52-7c1e-4f0a-8d55-2b1f6c0e4a10"
OCCURRED_AT = datetime(2024, 5, 17, 9, 30, 0, 123456, tzinfo=UTC)

EXAMPLE_PAYLOADS: dict[str, dict[str, Any]] = {
    "CustomerRegistered": {
        "customer_id": CUSTOMER_ID,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "address": "12 St James's Square, London",
    },
    "CustomerRenamed": {"customer_id": CUSTOMER_ID, "name": "Ada King"},
    "CustomerAddressChanged": {
        "customer_id": CUSTOMER_ID,
        "address": "Ockham Park, Surrey",
    },
    "CustomerEmailChanged": {
        "customer_id": CUSTOMER_ID,
        "email": "countess@example.com",
    },
    "CustomerDeleted": {"customer_id": CUSTOMER_ID},
    "CustomerDeletionRejected": {
        "customer_id": CUSTOMER_ID,
        "reason": "customer has open orders",
    },
    "CreditReserved": {
        "customer_id": CUSTOMER_ID,
        "order_id": ORDER_ID,
        "amount": "59.97",
    },
    "CreditLimitExceeded": {
        "customer_id": CUSTOMER_ID,
        "order_id": ORDER_ID,
        "amount": "59.97",
        "available": "40.03",
    },
    "CreditReleased": {
        "customer_id": CUSTOMER_ID,
        "order_id": ORDER_ID,
        "amount": "59.97",
    },
    "OrderPlaced": {
        "order_id": ORDER_ID,
        "customer_id": CUSTOMER_ID,
        "lines": [
            {"sku": "BOOK-001", "quantity": 3, "unit_price": "19.99"},
            {"sku": "PEN-7", "quantity": 1, "unit_price": "0"},
        ],
        "total": "59.97",
    },
    "OrderCancelled": {
        "order_id": ORDER_ID,
        "customer_id": CUSTOMER_ID,
        "reason": "customer_deleted",
    },
    "OrderApproved": {"order_id": ORDER_ID, "customer_id": CUSTOMER_ID},
    "OrderRejected": {
        "order_id": ORDER_ID,
        "customer_id": CUSTOMER_ID,
        "reason": "customer not found",
    },
    # The opening events of a migrated platform (strangler.introduce_events).
    "CustomerImported": {
        "customer_id": CUSTOMER_ID,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "address": "12 St James's Square, London",
        "reservations": {ORDER_ID: "59.97"},
    },
    "OrderImported": {
        "order_id": ORDER_ID,
        "customer_id": CUSTOMER_ID,
        "status": "approved",
        "lines": [{"sku": "BOOK-001", "quantity": 3, "unit_price": "19.99"}],
        "total": "59.97",
    },
}


def example_envelope(event_type: str = "OrderPlaced", **changes: Any) -> EventEnvelope:
    """A valid envelope of ``event_type``; keyword arguments override fields.

    Another ``aggregate_id`` (without a payload of its own) is the payload's
    id too, as a producer writes it (``check_provenance``).
    """
    is_order = event_type.startswith("Order")
    fields: dict[str, Any] = {
        "event_type": event_type,
        "aggregate_type": "Order" if is_order else "Customer",
        "aggregate_id": ORDER_ID if is_order else CUSTOMER_ID,
        "aggregate_version": 1,
        "producer": "order" if is_order else "customer",
        "payload": copy.deepcopy(EXAMPLE_PAYLOADS[event_type]),
        "occurred_at": OCCURRED_AT,
        "correlation_id": UUID("6f1c2f8e-8a43-4d0c-b4ea-3d9a4f3b2c11"),
        "trace_context": {
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        },
    }
    if "aggregate_id" in changes and "payload" not in changes:
        id_field = "order_id" if is_order else "customer_id"
        fields["payload"][id_field] = str(changes["aggregate_id"])
    fields.update(changes)
    return new_envelope(**fields)


def example_dict(event_type: str = "OrderPlaced") -> dict[str, Any]:
    """The JSON-ready dict of a valid envelope, for breaking on purpose."""
    return to_dict(example_envelope(event_type))

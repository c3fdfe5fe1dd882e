"""Events for a read side's projection tests, and a way to project them.

Written once for both read sides; each binds it in its own
``tests/projection_support.py`` with its consumer's name and its
``PROJECTION_HANDLERS`` (``read_side_projector``).

Each envelope goes through ``encode`` and ``from_json`` first, as it would
through the queue, so a payload the catalog would refuse fails here too.
``project`` runs the real ``apply_event`` of the read-side consumer: the
processed-event record, the aggregate cursor and the handlers in one
transaction in the read database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from shared_events.consume import Handler, Outcome, apply_event
from shared_events.events import (
    AggregateType,
    EventEnvelope,
    EventType,
    encode,
    from_json,
    new_envelope,
)

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def _event(
    event_type: EventType,
    aggregate_type: AggregateType,
    aggregate_id: uuid.UUID,
    version: int,
    minutes: int,
    payload: dict,
) -> EventEnvelope:
    envelope = new_envelope(
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        aggregate_version=version,
        producer="customer" if aggregate_type == AggregateType.CUSTOMER else "order",
        payload=payload,
        occurred_at=at(minutes),
    )
    return from_json(encode(envelope))


def registered(
    customer_id: uuid.UUID,
    *,
    name: str = "Ada Lovelace",
    email: str = "ada@example.com",
    address: str = "12 St James's Square, London",
    minutes: int = 0,
) -> EventEnvelope:
    return _event(
        EventType.CUSTOMER_REGISTERED,
        AggregateType.CUSTOMER,
        customer_id,
        1,
        minutes,
        {
            "customer_id": str(customer_id),
            "name": name,
            "email": email,
            "address": address,
        },
    )


def renamed(
    customer_id: uuid.UUID, name: str, *, version: int, minutes: int = 1
) -> EventEnvelope:
    return _event(
        EventType.CUSTOMER_RENAMED,
        AggregateType.CUSTOMER,
        customer_id,
        version,
        minutes,
        {"customer_id": str(customer_id), "name": name},
    )


def email_changed(
    customer_id: uuid.UUID, email: str, *, version: int, minutes: int = 1
) -> EventEnvelope:
    return _event(
        EventType.CUSTOMER_EMAIL_CHANGED,
        AggregateType.CUSTOMER,
        customer_id,
        version,
        minutes,
        {"customer_id": str(customer_id), "email": email},
    )


def address_changed(
    customer_id: uuid.UUID, address: str, *, version: int, minutes: int = 1
) -> EventEnvelope:
    return _event(
        EventType.CUSTOMER_ADDRESS_CHANGED,
        AggregateType.CUSTOMER,
        customer_id,
        version,
        minutes,
        {"customer_id": str(customer_id), "address": address},
    )


def deleted(customer_id: uuid.UUID, *, version: int, minutes: int = 2) -> EventEnvelope:
    return _event(
        EventType.CUSTOMER_DELETED,
        AggregateType.CUSTOMER,
        customer_id,
        version,
        minutes,
        {"customer_id": str(customer_id)},
    )


def placed(
    order_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    lines: Sequence[tuple[str, int, str]] = (("BOOK-1", 1, "10.00"),),
    minutes: int = 1,
) -> EventEnvelope:
    total = sum(
        (quantity * Decimal(unit_price) for _, quantity, unit_price in lines),
        Decimal("0.00"),
    )
    return _event(
        EventType.ORDER_PLACED,
        AggregateType.ORDER,
        order_id,
        1,
        minutes,
        {
            "order_id": str(order_id),
            "customer_id": str(customer_id),
            "lines": [
                {"sku": sku, "quantity": quantity, "unit_price": unit_price}
                for sku, quantity, unit_price in lines
            ],
            "total": f"{total:.2f}",
        },
    )


def cancelled(
    order_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    reason: str = "customer_request",
    minutes: int = 3,
) -> EventEnvelope:
    return _event(
        EventType.ORDER_CANCELLED,
        AggregateType.ORDER,
        order_id,
        2,
        minutes,
        {"order_id": str(order_id), "customer_id": str(customer_id), "reason": reason},
    )


def rejected(
    order_id: uuid.UUID, customer_id: uuid.UUID, *, minutes: int = 1
) -> EventEnvelope:
    return _event(
        EventType.ORDER_REJECTED,
        AggregateType.ORDER,
        order_id,
        1,
        minutes,
        {
            "order_id": str(order_id),
            "customer_id": str(customer_id),
            "reason": "customer unknown",
        },
    )


def read_side_projector(
    *, consumer: str, handlers: Mapping[str, Sequence[Handler]]
) -> Callable[..., list[Outcome]]:
    """``project(*envelopes)`` for one read side: its consumer, its handlers."""

    def project(*envelopes: EventEnvelope) -> list[Outcome]:
        """Apply the envelopes, in this order, as the read-side consumer would."""
        return [
            apply_event(
                consumer=consumer,
                envelope=envelope,
                handlers=handlers[envelope.event_type],
                database="read",
            )
            for envelope in envelopes
        ]

    return project

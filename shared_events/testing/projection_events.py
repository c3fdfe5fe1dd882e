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
    OpeningEventType,
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
    *,
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


def _customer_event(
    event_type: EventType,
    customer_id: uuid.UUID,
    *,
    version: int,
    minutes: int,
    **details,
) -> EventEnvelope:
    payload = {"customer_id": str(customer_id), **details}
    return _event(
        event_type,
        AggregateType.CUSTOMER,
        customer_id,
        version=version,
        minutes=minutes,
        payload=payload,
    )


# Each order here has a simple story: placed (or rejected), then cancelled;
# or placed, then approved or rejected by the credit rule (version 2).
ORDER_VERSIONS = {
    EventType.ORDER_PLACED: 1,
    EventType.ORDER_REJECTED: 1,
    EventType.ORDER_CANCELLED: 2,
    EventType.ORDER_APPROVED: 2,
}


def _order_event(
    event_type: EventType,
    order_id: uuid.UUID,
    customer_id: uuid.UUID,
    minutes: int,
    version: int | None = None,
    **details,
) -> EventEnvelope:
    payload = {"order_id": str(order_id), "customer_id": str(customer_id), **details}
    return _event(
        event_type,
        AggregateType.ORDER,
        order_id,
        version=version or ORDER_VERSIONS[event_type],
        minutes=minutes,
        payload=payload,
    )


def registered(
    customer_id: uuid.UUID,
    *,
    name: str = "Ada Lovelace",
    email: str = "ada@example.com",
    address: str = "12 St James's Square, London",
    minutes: int = 0,
) -> EventEnvelope:
    return _customer_event(
        EventType.CUSTOMER_REGISTERED,
        customer_id,
        version=1,
        minutes=minutes,
        name=name,
        email=email,
        address=address,
    )


def _detail_changed(event_type: EventType, detail: str) -> Callable[..., EventEnvelope]:
    """The builder of a customer event that changes one detail: its name,
    email or address, given as the value after the customer's id."""

    def changed(
        customer_id: uuid.UUID, value: str, *, version: int, minutes: int = 1
    ) -> EventEnvelope:
        return _customer_event(
            event_type, customer_id, version=version, minutes=minutes, **{detail: value}
        )

    return changed


renamed = _detail_changed(EventType.CUSTOMER_RENAMED, "name")
email_changed = _detail_changed(EventType.CUSTOMER_EMAIL_CHANGED, "email")
address_changed = _detail_changed(EventType.CUSTOMER_ADDRESS_CHANGED, "address")


def deleted(customer_id: uuid.UUID, *, version: int, minutes: int = 2) -> EventEnvelope:
    return _customer_event(
        EventType.CUSTOMER_DELETED, customer_id, version=version, minutes=minutes
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
    return _order_event(
        EventType.ORDER_PLACED,
        order_id,
        customer_id,
        minutes,
        lines=[
            {"sku": sku, "quantity": quantity, "unit_price": unit_price}
            for sku, quantity, unit_price in lines
        ],
        total=f"{total:.2f}",
    )


def cancelled(
    order_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    reason: str = "customer_request",
    minutes: int = 3,
) -> EventEnvelope:
    return _order_event(
        EventType.ORDER_CANCELLED, order_id, customer_id, minutes, reason=reason
    )


def rejected(
    order_id: uuid.UUID, customer_id: uuid.UUID, *, minutes: int = 1
) -> EventEnvelope:
    return _order_event(
        EventType.ORDER_REJECTED,
        order_id,
        customer_id,
        minutes,
        reason="customer unknown",
    )


def approved(
    order_id: uuid.UUID, customer_id: uuid.UUID, *, minutes: int = 2
) -> EventEnvelope:
    """The credit saga's happy end: the order's version 2."""
    return _order_event(EventType.ORDER_APPROVED, order_id, customer_id, minutes)


def rejected_over_the_limit(
    order_id: uuid.UUID, customer_id: uuid.UUID, *, minutes: int = 2
) -> EventEnvelope:
    """A placed order the credit rule refused: the order's version 2."""
    return _order_event(
        EventType.ORDER_REJECTED,
        order_id,
        customer_id,
        minutes,
        version=2,
        reason="credit_limit_exceeded",
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


def customer_imported(
    customer_id: uuid.UUID,
    *,
    name: str = "Ada Lovelace",
    email: str = "ada@example.com",
    address: str = "12 St James's Square, London",
    reservations: dict[str, str] | None = None,
    minutes: int = 0,
) -> EventEnvelope:
    """A migrated customer's opening event (``strangler.introduce_events``)."""
    return _event(
        OpeningEventType.CUSTOMER_IMPORTED,
        AggregateType.CUSTOMER,
        customer_id,
        version=1,
        minutes=minutes,
        payload={
            "customer_id": str(customer_id),
            "name": name,
            "email": email,
            "address": address,
            "reservations": reservations or {},
        },
    )


def order_imported(
    order_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    status: str = "approved",
    lines: Sequence[tuple[str, int, str]] = (("BOOK-1", 1, "10.00"),),
    minutes: int = 1,
) -> EventEnvelope:
    """A migrated order's opening event, as it stood (``status``)."""
    total = sum(
        (quantity * Decimal(unit_price) for _, quantity, unit_price in lines),
        Decimal("0.00"),
    )
    return _order_event(
        OpeningEventType.ORDER_IMPORTED,
        order_id,
        customer_id,
        minutes,
        version=1,
        status=status,
        lines=[
            {"sku": sku, "quantity": quantity, "unit_price": unit_price}
            for sku, quantity, unit_price in lines
        ],
        total=f"{total:.2f}",
    )

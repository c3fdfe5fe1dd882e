"""Order events as the order service records them, for the analytics tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from shared_events.events import AggregateType, EventEnvelope, EventType, new_envelope


def order_event(
    event_type: str,
    *,
    order_id: uuid.UUID,
    customer_id: uuid.UUID,
    version: int,
    occurred_at: datetime | None = None,
    total: Decimal = Decimal("10.00"),
) -> EventEnvelope:
    payload: dict = {"order_id": str(order_id), "customer_id": str(customer_id)}
    if event_type == EventType.ORDER_PLACED:
        payload |= {
            "lines": [{"sku": "AN-1", "quantity": 1, "unit_price": f"{total:.2f}"}],
            "total": f"{total:.2f}",
        }
    elif event_type == EventType.ORDER_CANCELLED:
        payload["reason"] = "customer_request"
    elif event_type == EventType.ORDER_REJECTED:
        payload["reason"] = "credit limit exceeded"
    return new_envelope(
        event_type=event_type,
        aggregate_type=AggregateType.ORDER,
        aggregate_id=order_id,
        aggregate_version=version,
        producer="order",
        payload=payload,
        occurred_at=occurred_at or datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
    )


def placed(order_id, customer_id, *, total="10.00", occurred_at=None):
    return order_event(
        EventType.ORDER_PLACED,
        order_id=order_id,
        customer_id=customer_id,
        version=1,
        total=Decimal(total),
        occurred_at=occurred_at,
    )

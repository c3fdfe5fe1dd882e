"""What the customer service does when order events arrive: its side of the
credit saga.

Run by ``consume_events`` inside the consumer's transaction, together with
the processed-event record: each order is answered once, in version order.
Choreography, not orchestration: nobody tells the customer service to
reserve credit; it reacts to ``OrderPlaced`` as any subscriber could, and
the order service reacts to its answer in turn.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from customer_service.customers.services import (
    customer_credit_release,
    customer_credit_reserve,
)
from shared_events.consume import Handler
from shared_events.events import EventEnvelope, EventType


def reserve_credit_for_order(envelope: EventEnvelope) -> None:
    payload = envelope.payload
    customer_credit_reserve(
        customer_id=UUID(payload["customer_id"]),
        order_id=UUID(payload["order_id"]),
        amount=Decimal(payload["total"]),
    )


def release_credit_of_cancelled_order(envelope: EventEnvelope) -> None:
    payload = envelope.payload
    customer_credit_release(
        customer_id=UUID(payload["customer_id"]), order_id=UUID(payload["order_id"])
    )


EVENT_HANDLERS: dict[str, list[Handler]] = {
    EventType.ORDER_PLACED: [reserve_credit_for_order],
    EventType.ORDER_CANCELLED: [release_credit_of_cancelled_order],
}

"""Projections: how order and customer events build the OrderView read model.

Run by the read-side consumer (``consume_events --side read``) through
``apply_event``: each handler runs in one transaction with the processed-event
record, inside ``projecting``, so its reads and writes go to the read database.

What a learner should notice:

* Denormalizing has a price: the customer's name, email and address are
  copied into every OrderView row, so ONE customer event (CustomerRenamed)
  updates MANY rows. The query side pays at write time so that a query never
  joins across services.
* Events of different aggregates arrive in any order. An OrderPlaced may be
  projected before its customer's CustomerRegistered: the row starts without
  the customer's details, and the registration fills them in when it comes.
  OrderViewCustomer keeps what is known of each customer, so an order placed
  after the customer's events starts complete.
* Both kinds of event lock the customer's OrderViewCustomer row first. Two
  consumer processes projecting an OrderPlaced and a CustomerRenamed of the
  same customer at once take turns on it, so the new order cannot miss the
  new name.

Every row written records the last event applied to it and when it was
projected: the query API shows both, so staleness is visible, not hidden.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.utils import timezone

from order_service.order_views.models import OrderView, OrderViewCustomer
from shared_events.consumer import Handler
from shared_events.events import EventEnvelope, EventType

PLACED = "placed"
CANCELLED = "cancelled"

STAMP_FIELDS = (
    "last_event_id",
    "last_event_type",
    "last_event_occurred_at",
    "projected_at",
)


def _stamp(envelope: EventEnvelope) -> dict[str, Any]:
    """The last-event fields every projected row records."""
    return {
        "last_event_id": envelope.event_id,
        "last_event_type": envelope.event_type,
        "last_event_occurred_at": envelope.occurred_at,
        "projected_at": timezone.now(),
    }


def _locked_customer(customer_id: UUID, envelope: EventEnvelope) -> OrderViewCustomer:
    """The read side's copy of the customer, created empty if unknown, row-locked."""
    OrderViewCustomer.objects.bulk_create(
        [OrderViewCustomer(customer_id=customer_id, **_stamp(envelope))],
        ignore_conflicts=True,
    )
    return OrderViewCustomer.objects.select_for_update().get(customer_id=customer_id)


# Order events: one OrderView row per order
# ------------------------------------------------------------------------------


def order_view_place(envelope: EventEnvelope) -> None:
    payload = envelope.payload
    customer = _locked_customer(UUID(payload["customer_id"]), envelope)
    OrderView.objects.get_or_create(  # get: a replay leaves the row as it is
        order_id=UUID(payload["order_id"]),
        defaults={
            "order_version": envelope.aggregate_version,
            "customer_id": customer.customer_id,
            "customer_name": customer.name,
            "customer_email": customer.email,
            "customer_address": customer.address,
            "customer_deleted": customer.deleted,
            "status": PLACED,
            "total": Decimal(payload["total"]),
            "lines": [
                {
                    "sku": line["sku"],
                    "quantity": line["quantity"],
                    "unit_price": str(line["unit_price"]),
                }
                for line in payload["lines"]
            ],
            "placed_at": envelope.occurred_at,
            **_stamp(envelope),
        },
    )


def order_view_cancel(envelope: EventEnvelope) -> None:
    # One order's events come in version order: its OrderPlaced made the row.
    OrderView.objects.filter(order_id=UUID(envelope.payload["order_id"])).update(
        order_version=envelope.aggregate_version,
        status=CANCELLED,
        cancel_reason=envelope.payload["reason"],
        cancelled_at=envelope.occurred_at,
        **_stamp(envelope),
    )


# Customer events: the customer's copy, and every order of theirs
# ------------------------------------------------------------------------------


def _apply_customer_event(envelope: EventEnvelope, **fields) -> None:
    """Update the customer's copy and the same fields on all of their orders."""
    customer = _locked_customer(UUID(envelope.payload["customer_id"]), envelope)
    if envelope.aggregate_version <= customer.customer_version:
        return  # already projected (a replay): one customer's events come in order
    stamp = _stamp(envelope)
    for name, value in {**fields, **stamp}.items():
        setattr(customer, name, value)
    customer.customer_version = envelope.aggregate_version
    customer.save(update_fields=[*fields, "customer_version", *STAMP_FIELDS])
    OrderView.objects.filter(customer_id=customer.customer_id).update(
        **{f"customer_{name}": value for name, value in fields.items()}, **stamp
    )


def order_view_customer_register(envelope: EventEnvelope) -> None:
    payload = envelope.payload
    _apply_customer_event(
        envelope,
        name=payload["name"],
        email=payload["email"],
        address=payload["address"],
        deleted=False,
    )


def order_view_customer_rename(envelope: EventEnvelope) -> None:
    _apply_customer_event(envelope, name=envelope.payload["name"])


def order_view_customer_change_email(envelope: EventEnvelope) -> None:
    _apply_customer_event(envelope, email=envelope.payload["email"])


def order_view_customer_change_address(envelope: EventEnvelope) -> None:
    _apply_customer_event(envelope, address=envelope.payload["address"])


def order_view_customer_delete(envelope: EventEnvelope) -> None:
    # The orders stay visible, marked: their cancellation is the order
    # service's own event (OrderCancelled, reason customer_deleted).
    _apply_customer_event(envelope, deleted=True)


PROJECTION_HANDLERS: dict[str, list[Handler]] = {
    EventType.ORDER_PLACED: [order_view_place],
    EventType.ORDER_CANCELLED: [order_view_cancel],
    # A rejected order was never placed: it gets no OrderView row.
    EventType.ORDER_REJECTED: [],
    EventType.CUSTOMER_REGISTERED: [order_view_customer_register],
    EventType.CUSTOMER_RENAMED: [order_view_customer_rename],
    EventType.CUSTOMER_EMAIL_CHANGED: [order_view_customer_change_email],
    EventType.CUSTOMER_ADDRESS_CHANGED: [order_view_customer_change_address],
    EventType.CUSTOMER_DELETED: [order_view_customer_delete],
    # A refused deletion changes nothing an order shows.
    EventType.CUSTOMER_DELETION_REJECTED: [],
}

"""The folds: each order event's effect on revenue per customer per day.

Run by ``shared_events.consume.apply_event`` in one transaction with the
event's processed-event record, whoever delivers it (the live inbox, the
replay of the order service's event store): an event seen in both applies
once. What a learner should notice:

* ``OrderPlaced`` adds the order to its customer's day; ``OrderCancelled``
  and ``OrderRejected`` take it back out, but only an order that was
  counted (a placement refused outright was never added).
* An event type with no handler here (one the producer adds later) is still
  recorded as processed and its aggregate's cursor moves past it: a no-op,
  never a reason to stop. A new consumer must not make producers wait.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.db.models.functions import Now

from analytics_service.revenue.models import CountedOrder, DailyRevenue
from shared_events.consume import Handler
from shared_events.events import EventEnvelope, EventType

_ADD = f"""
INSERT INTO {DailyRevenue._meta.db_table}
    (customer_id, day, order_count, revenue, updated_at)
VALUES (%s, %s, %s, %s, now())
ON CONFLICT (customer_id, day) DO UPDATE SET
    order_count = {DailyRevenue._meta.db_table}.order_count + EXCLUDED.order_count,
    revenue = {DailyRevenue._meta.db_table}.revenue + EXCLUDED.revenue,
    updated_at = now()
"""


def _add_to_day(*, customer_id, day, amount: Decimal) -> None:
    """One order more on the day: one statement, whoever else writes the same
    day at the same time (the row may not exist yet)."""
    with connection.cursor() as cursor:
        cursor.execute(_ADD, [str(customer_id), day, 1, amount])


def order_placed(envelope: EventEnvelope) -> None:
    payload = envelope.payload
    order, created = CountedOrder.objects.get_or_create(
        order_id=payload["order_id"],
        defaults={
            "customer_id": payload["customer_id"],
            # The envelope keeps occurred_at in UTC: its date is the UTC day.
            "day": envelope.occurred_at.date(),
            "total": Decimal(payload["total"]),
        },
    )
    if created:
        _add_to_day(customer_id=order.customer_id, day=order.day, amount=order.total)


def order_closed(envelope: EventEnvelope) -> None:
    """A cancellation or a rejection: the order leaves the revenue, if counted."""
    order = (
        CountedOrder.objects.select_for_update()
        .filter(order_id=envelope.payload["order_id"], counted=True)
        .first()
    )
    if order is None:
        return
    order.counted = False
    order.closed_by = envelope.event_type
    order.save(update_fields=["counted", "closed_by"])
    # The day's row exists: the placement made it, and rows are never deleted.
    DailyRevenue.objects.filter(customer_id=order.customer_id, day=order.day).update(
        order_count=F("order_count") - 1,
        revenue=F("revenue") - order.total,
        updated_at=Now(),
    )


REVENUE_HANDLERS: dict[str, list[Handler]] = {
    EventType.ORDER_PLACED: [order_placed],
    EventType.ORDER_CANCELLED: [order_closed],
    EventType.ORDER_REJECTED: [order_closed],
}

"""The folds, applied through the consumer's own core (``apply_event``)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from analytics_service.revenue.handlers import REVENUE_HANDLERS
from analytics_service.revenue.models import CountedOrder, DailyRevenue
from analytics_service.revenue.tests.events import order_event, placed
from shared_events.consume import Outcome, apply_event
from shared_events.events import EventType
from shared_events.models import AggregateCursor, ProcessedEvent

pytestmark = pytest.mark.django_db

CONSUMER = "analytics-inbox"


def apply(envelope) -> Outcome:
    return apply_event(
        consumer=CONSUMER,
        envelope=envelope,
        handlers=REVENUE_HANDLERS.get(envelope.event_type, ()),
    )


def days() -> dict:
    return {
        (str(row.customer_id), row.day): (row.order_count, row.revenue)
        for row in DailyRevenue.objects.all()
    }


def test_placed_orders_add_up_per_customer_and_utc_day():
    ada, bob = uuid.uuid4(), uuid.uuid4()
    late = datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)
    events = [
        placed(uuid.uuid4(), ada, total="10.00", occurred_at=late),
        placed(uuid.uuid4(), ada, total="2.50"),
        placed(uuid.uuid4(), bob, total="7.00"),
        placed(uuid.uuid4(), ada, occurred_at=datetime(2026, 3, 2, 0, 0, tzinfo=UTC)),
    ]
    assert [apply(e) for e in events] == [Outcome.APPLIED] * 4
    assert days() == {
        (str(ada), date(2026, 3, 1)): (2, Decimal("12.50")),
        (str(bob), date(2026, 3, 1)): (1, Decimal("7.00")),
        (str(ada), date(2026, 3, 2)): (1, Decimal("10.00")),
    }


@pytest.mark.parametrize(
    "closing", [EventType.ORDER_CANCELLED, EventType.ORDER_REJECTED]
)
def test_a_cancelled_or_rejected_order_is_taken_back_out(closing):
    customer, kept, closed = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    apply(placed(kept, customer, total="4.00"))
    apply(placed(closed, customer, total="6.00"))
    apply(order_event(closing, order_id=closed, customer_id=customer, version=2))
    assert days() == {(str(customer), date(2026, 3, 1)): (1, Decimal("4.00"))}
    assert CountedOrder.objects.get(order_id=closed).closed_by == closing


def test_a_placement_rejected_outright_was_never_counted():
    customer, order = uuid.uuid4(), uuid.uuid4()
    rejected = order_event(
        EventType.ORDER_REJECTED, order_id=order, customer_id=customer, version=1
    )
    assert apply(rejected) is Outcome.APPLIED
    assert days() == {}
    assert not CountedOrder.objects.exists()


def test_every_event_applies_once_however_often_it_is_delivered():
    customer, order = uuid.uuid4(), uuid.uuid4()
    placement = placed(order, customer, total="9.99")
    cancellation = order_event(
        EventType.ORDER_CANCELLED, order_id=order, customer_id=customer, version=2
    )
    outcomes = [apply(e) for e in (placement, placement, cancellation, cancellation)]
    outcomes.append(apply(placement))
    assert outcomes == [
        Outcome.APPLIED,
        Outcome.DUPLICATE,
        Outcome.APPLIED,
        Outcome.DUPLICATE,
        Outcome.DUPLICATE,
    ]
    assert days() == {(str(customer), date(2026, 3, 1)): (0, Decimal("0.00"))}


def test_an_event_ahead_of_its_order_waits_for_the_earlier_one():
    customer, order = uuid.uuid4(), uuid.uuid4()
    cancellation = order_event(
        EventType.ORDER_CANCELLED, order_id=order, customer_id=customer, version=2
    )
    assert apply(cancellation) is Outcome.HELD
    assert apply(placed(order, customer)) is Outcome.APPLIED
    assert apply(cancellation) is Outcome.APPLIED
    assert days()[(str(customer), date(2026, 3, 1))] == (0, Decimal("0.00"))


def test_an_event_type_it_does_not_know_is_a_tracked_no_op():
    """A type the producer adds later (here one the analytics has no fold
    for): recorded as processed, the order's cursor moves past it, and the
    next event of the order still applies."""
    customer, order = uuid.uuid4(), uuid.uuid4()
    apply(placed(order, customer, total="5.00"))
    newer = order_event(
        "OrderShippedSomeday", order_id=order, customer_id=customer, version=2
    )
    assert apply(newer) is Outcome.APPLIED
    assert ProcessedEvent.objects.filter(
        consumer=CONSUMER, event_id=newer.event_id
    ).exists()
    assert (
        AggregateCursor.objects.get(consumer=CONSUMER, aggregate_id=order).version == 2
    )
    cancellation = order_event(
        EventType.ORDER_CANCELLED, order_id=order, customer_id=customer, version=3
    )
    assert apply(cancellation) is Outcome.APPLIED
    assert days() == {(str(customer), date(2026, 3, 1)): (0, Decimal("0.00"))}

"""The CustomerSummary projection, fed through the read-side consumer's core.

What a learner should see proven:

* counts and lifetime value follow placements and cancellations, and a
  rejected order counts for nothing;
* events of different aggregates give the same summary in any order: an
  order projected before its customer's registration included;
* a duplicate delivery changes nothing;
* every row records the last event applied to it;
* outside a projection, nothing may write a read model.
"""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from customer_service.summaries.models import CustomerSummary, SummaryOrder
from customer_service.summaries.projections import PROJECTION_HANDLERS
from customer_service.summaries.tests.projection_support import project
from shared_events.consume import Outcome, projecting
from shared_events.events import EventType
from shared_events.read_side import ReadModelWriteRefused
from shared_events.testing.projection_events import (
    at,
    cancelled,
    deleted,
    email_changed,
    placed,
    registered,
    rejected,
    renamed,
)

pytestmark = pytest.mark.django_db(databases=["default", "read"])

SUMMARY_FIELDS = [
    "name",
    "email",
    "address",
    "registered",
    "deleted",
    "customer_version",
    "order_count",
    "open_order_count",
    "lifetime_value",
    "last_order_at",
]


def summary_of(customer_id: uuid.UUID) -> dict:
    summary = CustomerSummary.objects.get(customer_id=customer_id)
    return {field: getattr(summary, field) for field in SUMMARY_FIELDS}


def row_state(row) -> dict:
    return {
        field.attname: getattr(row, field.attname)
        for field in row._meta.concrete_fields
    }


def test_every_event_type_of_the_catalog_has_a_decided_projection():
    # An empty list is a decision too ("counts for nothing"); a missing key
    # would be a new event type nobody thought about for the read model.
    assert set(PROJECTION_HANDLERS) == set(EventType)


def test_registration_fills_in_the_customer_and_later_events_change_it():
    customer_id = uuid.uuid4()

    outcomes = project(
        registered(customer_id),
        renamed(customer_id, "Ada King", version=2),
        email_changed(customer_id, "ada@king.example", version=3),
    )

    assert outcomes == [Outcome.APPLIED] * 3
    assert summary_of(customer_id) == {
        "name": "Ada King",
        "email": "ada@king.example",
        "address": "12 St James's Square, London",
        "registered": True,
        "deleted": False,
        "customer_version": 3,
        "order_count": 0,
        "open_order_count": 0,
        "lifetime_value": Decimal("0.00"),
        "last_order_at": None,
    }


def test_counts_and_lifetime_value_after_placing_and_cancelling():
    customer_id = uuid.uuid4()
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    project(
        registered(customer_id),
        placed(first, customer_id, lines=[("BOOK-1", 1, "10.00")], minutes=5),
        placed(
            second,
            customer_id,
            lines=[("BOOK-2", 2, "10.25"), ("PEN-1", 1, "5.00")],
            minutes=6,
        ),
        placed(third, customer_id, lines=[("INK-1", 3, "1.50")], minutes=7),
    )
    before = summary_of(customer_id)
    project(cancelled(second, customer_id, minutes=8))
    after = summary_of(customer_id)

    assert (before["order_count"], before["open_order_count"]) == (3, 3)
    assert before["lifetime_value"] == Decimal("40.00")  # 10.00 + 25.50 + 4.50
    assert (after["order_count"], after["open_order_count"]) == (3, 2)
    assert after["lifetime_value"] == Decimal("14.50")  # the orders not cancelled
    assert after["last_order_at"] == at(7)
    assert SummaryOrder.objects.get(order_id=second).status == "cancelled"
    assert SummaryOrder.objects.get(order_id=first).status == "placed"


def test_last_order_at_is_the_latest_placement_whatever_the_projection_order():
    customer_id = uuid.uuid4()

    project(
        placed(uuid.uuid4(), customer_id, minutes=9),
        placed(uuid.uuid4(), customer_id, minutes=4),
    )

    assert summary_of(customer_id)["last_order_at"] == at(9)


def test_a_rejected_order_counts_for_nothing():
    customer_id = uuid.uuid4()
    project(registered(customer_id))
    before = row_state(CustomerSummary.objects.get(customer_id=customer_id))

    assert project(rejected(uuid.uuid4(), customer_id)) == [Outcome.APPLIED]

    assert row_state(CustomerSummary.objects.get(customer_id=customer_id)) == before
    assert not SummaryOrder.objects.filter(customer_id=customer_id).exists()


def test_a_deleted_customer_keeps_the_row_and_its_history():
    customer_id = uuid.uuid4()
    project(
        registered(customer_id),
        placed(uuid.uuid4(), customer_id, lines=[("BOOK-1", 2, "7.00")]),
        deleted(customer_id, version=2),
    )

    summary = summary_of(customer_id)

    assert summary["deleted"] is True
    assert summary["name"] == "Ada Lovelace"
    assert (summary["order_count"], summary["lifetime_value"]) == (1, Decimal("14"))


def test_an_order_before_the_registration_leaves_a_row_the_registration_completes():
    customer_id = uuid.uuid4()

    project(placed(uuid.uuid4(), customer_id, lines=[("BOOK-1", 1, "12.00")]))
    early = summary_of(customer_id)
    project(registered(customer_id))

    assert (early["registered"], early["name"], early["order_count"]) == (False, "", 1)
    summary = summary_of(customer_id)
    assert (summary["registered"], summary["name"]) == (True, "Ada Lovelace")
    assert (summary["order_count"], summary["lifetime_value"]) == (1, Decimal("12"))


def _merge_orders(*lengths: int) -> list[tuple[int, ...]]:
    """Every order in which streams of these lengths can interleave.

    Each order is a tuple of stream indexes; every stream keeps its own order
    (as the consumer keeps each aggregate's events in version order).
    """
    slots = [index for index, length in enumerate(lengths) for _ in range(length)]
    return sorted(set(itertools.permutations(slots)))


def _merged(streams: tuple[list, ...], order: tuple[int, ...]) -> list:
    iterators = [iter(stream) for stream in streams]
    return [next(iterators[index]) for index in order]


def _streams(customer_id: uuid.UUID) -> tuple[list, list, list]:
    """One customer's events and two orders' events: three aggregates."""
    first, second = uuid.uuid4(), uuid.uuid4()
    return (
        [
            registered(customer_id),
            renamed(customer_id, "Ada King", version=2, minutes=2),
            deleted(customer_id, version=3, minutes=6),
        ],
        [
            placed(first, customer_id, lines=[("BOOK-1", 2, "9.99")], minutes=1),
            cancelled(first, customer_id, minutes=5),
        ],
        [placed(second, customer_id, lines=[("PEN-1", 1, "3.50")], minutes=3)],
    )


def _read_models(customer_id: uuid.UUID) -> tuple[dict, list]:
    orders = SummaryOrder.objects.filter(customer_id=customer_id)
    return summary_of(customer_id), sorted(orders.values_list("total", "status"))


def test_events_of_different_aggregates_in_any_order_give_the_same_read_models():
    orders = _merge_orders(3, 2, 1)
    assert len(orders) == 60  # 6! / (3! 2! 1!)
    results = {}
    for order in orders:
        customer_id = uuid.uuid4()
        events = _merged(_streams(customer_id), order)
        assert project(*events) == [Outcome.APPLIED] * len(events)
        results[order] = _read_models(customer_id)

    # the order in which the customer's events all come first ...
    reference = results[(0, 0, 0, 1, 1, 2)]
    # ... and the one in which both orders come before the registration
    assert results[(1, 1, 2, 0, 0, 0)] == reference
    assert all(result == reference for result in results.values())
    summary, summary_orders = reference
    assert (summary["name"], summary["registered"], summary["deleted"]) == (
        "Ada King",
        True,
        True,
    )
    assert (summary["order_count"], summary["open_order_count"]) == (2, 1)
    assert summary["lifetime_value"] == Decimal("3.50")
    assert summary["last_order_at"] == at(3)
    assert summary_orders == [
        (Decimal("3.50"), "placed"),
        (Decimal("19.98"), "cancelled"),
    ]


def test_a_duplicate_delivery_changes_nothing():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()
    events = [
        registered(customer_id),
        placed(order_id, customer_id, lines=[("BOOK-1", 1, "10.00")]),
        cancelled(order_id, customer_id),
    ]
    project(*events)
    summary_before = row_state(CustomerSummary.objects.get(customer_id=customer_id))
    order_before = row_state(SummaryOrder.objects.get(order_id=order_id))

    assert project(*events) == [Outcome.DUPLICATE] * 3

    assert row_state(CustomerSummary.objects.get(customer_id=customer_id)) == (
        summary_before
    )
    assert row_state(SummaryOrder.objects.get(order_id=order_id)) == order_before


def test_a_replayed_placement_is_not_counted_twice_by_the_handler_itself():
    # The consumer's records stop duplicates; the handlers do not rely on that
    # alone, so a replay of the same event cannot count an order twice.
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()
    placement = placed(order_id, customer_id, lines=[("BOOK-1", 1, "10.00")])
    project(placement)

    with projecting("read"):
        for handler in PROJECTION_HANDLERS[EventType.ORDER_PLACED]:
            handler(placement)

    summary = summary_of(customer_id)
    assert (summary["order_count"], summary["lifetime_value"]) == (1, Decimal("10"))


def test_every_row_records_the_last_event_applied_to_it():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()
    placement = placed(order_id, customer_id, minutes=4)
    cancellation = cancelled(order_id, customer_id, minutes=8)
    before = timezone.now()

    project(registered(customer_id), placement)
    summary_after_placement = CustomerSummary.objects.get(customer_id=customer_id)
    project(cancellation)

    summary = CustomerSummary.objects.get(customer_id=customer_id)
    order = SummaryOrder.objects.get(order_id=order_id)
    assert (
        summary_after_placement.last_event_id,
        summary_after_placement.last_event_type,
        summary_after_placement.last_event_occurred_at,
    ) == (placement.event_id, "OrderPlaced", at(4))
    for row in (summary, order):
        assert (row.last_event_id, row.last_event_type) == (
            cancellation.event_id,
            "OrderCancelled",
        )
        assert row.last_event_occurred_at == at(8)
        assert before <= row.projected_at <= timezone.now()
    assert summary.projected_at >= summary_after_placement.projected_at


def test_query_code_cannot_write_a_read_model():
    customer_id = uuid.uuid4()
    project(registered(customer_id))
    summary = CustomerSummary.objects.get(customer_id=customer_id)

    summary.name = "Changed on the side"
    with pytest.raises(ReadModelWriteRefused):
        summary.save()
    with pytest.raises(ReadModelWriteRefused):
        CustomerSummary.objects.filter(customer_id=customer_id).update(order_count=9)
    with pytest.raises(ReadModelWriteRefused):
        CustomerSummary.objects.create(customer_id=uuid.uuid4())
    with pytest.raises(ReadModelWriteRefused):
        SummaryOrder.objects.filter(customer_id=customer_id).delete()

    assert summary_of(customer_id)["name"] == "Ada Lovelace"

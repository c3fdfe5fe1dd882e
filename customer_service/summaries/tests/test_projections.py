"""The CustomerSummary projection, fed through the read-side consumer's core.

What a learner should see proven:

* counts and lifetime value follow placements and cancellations, and a
  rejected order counts for nothing;
* events of different aggregates give the same summary in any order: an
  order projected before its customer's registration included; a duplicate
  delivery changes nothing (``shared_events.testing.projection_contract``,
  subclassed below);
* every row records the last event applied to it;
* outside a projection, nothing may write a read model.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from customer_service.summaries.models import CustomerSummary, SummaryOrder
from customer_service.summaries.projections import PROJECTION_HANDLERS
from customer_service.summaries.tests.projection_support import CONSUMER, project
from shared_events.consume import Outcome, projecting
from shared_events.events import EventType
from shared_events.read_side import ReadModelWriteRefused
from shared_events.testing import projection_events as event
from shared_events.testing.projection_contract import (
    ProjectionContract,
    last_event_of,
    projected_columns,
    row_state,
)
from shared_events.testing.projection_events import at

pytestmark = pytest.mark.django_db(databases=["default", "read"])


def summary_of(customer_id: uuid.UUID) -> dict:
    return projected_columns(CustomerSummary.objects.get(customer_id=customer_id))


def test_registration_fills_in_the_customer_and_later_events_change_it():
    customer_id = uuid.uuid4()

    outcomes = project(
        event.registered(customer_id),
        event.renamed(customer_id, "Ada King", version=2),
        event.email_changed(customer_id, "ada@king.example", version=3),
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
        event.registered(customer_id),
        event.placed(first, customer_id, lines=[("BOOK-1", 1, "10.00")], minutes=5),
        event.placed(
            second,
            customer_id,
            lines=[("BOOK-2", 2, "10.25"), ("PEN-1", 1, "5.00")],
            minutes=6,
        ),
        event.placed(third, customer_id, lines=[("INK-1", 3, "1.50")], minutes=7),
    )
    before = summary_of(customer_id)
    project(event.cancelled(second, customer_id, minutes=8))
    after = summary_of(customer_id)

    assert (before["order_count"], before["open_order_count"]) == (3, 3)
    assert before["lifetime_value"] == Decimal("40.00")  # 10.00 + 25.50 + 4.50
    assert (after["order_count"], after["open_order_count"]) == (3, 2)
    assert after["lifetime_value"] == Decimal("14.50")  # the orders not cancelled
    assert after["last_order_at"] == at(7)
    assert SummaryOrder.objects.get(order_id=second).status == "cancelled"
    assert SummaryOrder.objects.get(order_id=first).status == "pending"


def test_last_order_at_is_the_latest_placement_whatever_the_projection_order():
    customer_id = uuid.uuid4()

    project(
        event.placed(uuid.uuid4(), customer_id, minutes=9),
        event.placed(uuid.uuid4(), customer_id, minutes=4),
    )

    assert summary_of(customer_id)["last_order_at"] == at(9)


def test_a_rejected_order_counts_for_nothing():
    customer_id = uuid.uuid4()
    project(event.registered(customer_id))
    before = row_state(CustomerSummary.objects.get(customer_id=customer_id))

    assert project(event.rejected(uuid.uuid4(), customer_id)) == [Outcome.APPLIED]

    assert row_state(CustomerSummary.objects.get(customer_id=customer_id)) == before
    assert not SummaryOrder.objects.filter(customer_id=customer_id).exists()


def test_a_deleted_customer_keeps_the_row_and_its_history():
    customer_id = uuid.uuid4()
    project(
        event.registered(customer_id),
        event.placed(uuid.uuid4(), customer_id, lines=[("BOOK-1", 2, "7.00")]),
        event.deleted(customer_id, version=2),
    )

    summary = summary_of(customer_id)

    assert summary["deleted"] is True
    assert summary["name"] == "Ada Lovelace"
    assert (summary["order_count"], summary["lifetime_value"]) == (1, Decimal("14"))


def test_an_order_before_the_registration_leaves_a_row_the_registration_completes():
    customer_id = uuid.uuid4()

    project(event.placed(uuid.uuid4(), customer_id, lines=[("BOOK-1", 1, "12.00")]))
    early = summary_of(customer_id)
    project(event.registered(customer_id))

    assert (early["registered"], early["name"], early["order_count"]) == (False, "", 1)
    summary = summary_of(customer_id)
    assert (summary["registered"], summary["name"]) == (True, "Ada Lovelace")
    assert (summary["order_count"], summary["lifetime_value"]) == (1, Decimal("12"))


class TestCustomerSummaryProjection(ProjectionContract):
    consumer = CONSUMER
    handlers = PROJECTION_HANDLERS

    def read_models_of(self, customer_id, orders) -> tuple[dict, list]:
        summary_orders = SummaryOrder.objects.filter(customer_id=customer_id)
        return summary_of(customer_id), sorted(
            summary_orders.values_list("total", "status")
        )

    def check_the_story(self, read_models) -> None:
        summary, summary_orders = read_models
        assert (summary["name"], summary["registered"], summary["deleted"]) == (
            "Ada King",
            True,
            True,
        )
        assert (summary["order_count"], summary["open_order_count"]) == (2, 1)
        assert summary["lifetime_value"] == Decimal("3.50")
        assert summary["last_order_at"] == at(3)
        assert summary_orders == [
            (Decimal("3.50"), "pending"),
            (Decimal("19.98"), "cancelled"),
        ]


def test_a_replayed_placement_is_not_counted_twice_by_the_handler_itself():
    # The consumer's records stop duplicates; the handlers do not rely on that
    # alone, so a replay of the same event cannot count an order twice.
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()
    placement = event.placed(order_id, customer_id, lines=[("BOOK-1", 1, "10.00")])
    project(placement)

    with projecting("read"):
        for handler in PROJECTION_HANDLERS[EventType.ORDER_PLACED]:
            handler(placement)

    summary = summary_of(customer_id)
    assert (summary["order_count"], summary["lifetime_value"]) == (1, Decimal("10"))


def test_every_row_records_the_last_event_applied_to_it():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()
    placement = event.placed(order_id, customer_id, minutes=4)
    cancellation = event.cancelled(order_id, customer_id, minutes=8)
    before = timezone.now()

    project(event.registered(customer_id), placement)
    placed_summary = CustomerSummary.objects.get(customer_id=customer_id)
    project(cancellation)

    summary = CustomerSummary.objects.get(customer_id=customer_id)
    order = SummaryOrder.objects.get(order_id=order_id)
    assert last_event_of(placed_summary) == (placement.event_id, "OrderPlaced", at(4))
    for row in (summary, order):
        assert last_event_of(row) == (cancellation.event_id, "OrderCancelled", at(8))
        assert before <= row.projected_at <= timezone.now()
    assert summary.projected_at >= placed_summary.projected_at


def test_query_code_cannot_write_a_read_model():
    customer_id = uuid.uuid4()
    project(event.registered(customer_id))
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


def test_an_order_the_credit_rule_rejects_is_taken_out_like_a_cancelled_one():
    customer_id = uuid.uuid4()
    kept, refused = uuid.uuid4(), uuid.uuid4()
    project(
        event.registered(customer_id),
        event.placed(kept, customer_id, lines=[("BOOK-1", 1, "10.00")]),
        event.placed(refused, customer_id, lines=[("BOOK-1", 9, "10.00")]),
        event.approved(kept, customer_id),
        event.rejected_over_the_limit(refused, customer_id),
    )

    summary = summary_of(customer_id)
    assert (summary["order_count"], summary["open_order_count"]) == (2, 1)
    assert summary["lifetime_value"] == Decimal("10.00")
    assert {
        order_id: SummaryOrder.objects.get(order_id=order_id).status
        for order_id in (kept, refused)
    } == {kept: "approved", refused: "rejected"}

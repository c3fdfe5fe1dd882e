"""The opening events of a migrated platform, folded into CustomerSummary.

They are never published (``strangler.introduce_events``); the next step
rebuilds the read models from the event store, through these same folds. A
learner should see: an imported customer is a registered one, an open
imported order counts as open and in the lifetime value, a closed one only
as an order, and an orphan closed at import leaves nothing open.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from customer_service.summaries.models import CustomerSummary, SummaryOrder
from customer_service.summaries.tests.projection_support import project
from shared_events.consume import Outcome
from shared_events.testing import projection_events as event

pytestmark = pytest.mark.django_db(databases=["default", "read"])


def test_an_imported_customer_and_its_orders_add_up_as_they_stood():
    customer_id, open_id, closed_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    outcomes = project(
        event.customer_imported(customer_id, reservations={str(open_id): "20.00"}),
        event.order_imported(open_id, customer_id, lines=[("FIG", 2, "10.00")]),
        event.order_imported(closed_id, customer_id, status="cancelled"),
        event.order_imported(closed_id, customer_id, status="cancelled"),
    )

    assert outcomes == [Outcome.APPLIED] * 3 + [Outcome.DUPLICATE]
    summary = CustomerSummary.objects.get(customer_id=customer_id)
    assert (summary.name, summary.registered, summary.customer_version) == (
        "Ada Lovelace",
        True,
        1,
    )
    assert (summary.order_count, summary.open_order_count) == (2, 1)
    assert summary.lifetime_value == Decimal("20.00")
    assert SummaryOrder.objects.get(order_id=closed_id).status == "cancelled"


def test_an_orphan_closed_at_import_leaves_nothing_open():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()

    project(
        event.order_imported(order_id, customer_id),
        event.cancelled(order_id, customer_id, reason="customer_missing_at_import"),
    )

    summary = CustomerSummary.objects.get(customer_id=customer_id)
    assert (summary.order_count, summary.open_order_count) == (1, 0)
    assert summary.lifetime_value == Decimal("0")
    assert summary.registered is False

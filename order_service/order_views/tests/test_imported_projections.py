"""The opening events of a migrated platform, folded into OrderView.

Never published (``strangler.introduce_events``): the next step rebuilds the
read models from the event store through these same folds. An imported
order shows as it stood, with its customer's details; an orphan closed at
import shows cancelled with the policy's reason.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from order_service.order_views.models import OrderView
from order_service.order_views.tests.projection_support import project
from shared_events.consume import Outcome
from shared_events.testing import projection_events as event

pytestmark = pytest.mark.django_db(databases=["default", "read"])


def test_an_imported_order_shows_as_it_stood_with_its_customer():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()

    outcomes = project(
        event.order_imported(order_id, customer_id, lines=[("FIG", 3, "1.50")]),
        event.customer_imported(customer_id, name="Grace Hopper"),
    )

    assert outcomes == [Outcome.APPLIED] * 2
    view = OrderView.objects.get(order_id=order_id)
    assert (view.status, view.total, view.order_version) == (
        "approved",
        Decimal("4.50"),
        1,
    )
    assert view.lines == [{"sku": "FIG", "quantity": 3, "unit_price": "1.50"}]
    assert (view.customer_name, view.customer_deleted) == ("Grace Hopper", False)


def test_an_orphan_closed_at_import_shows_cancelled_with_the_reason():
    customer_id, order_id = uuid.uuid4(), uuid.uuid4()

    project(
        event.order_imported(order_id, customer_id, status="pending"),
        event.cancelled(order_id, customer_id, reason="customer_missing_at_import"),
    )

    view = OrderView.objects.get(order_id=order_id)
    assert (view.status, view.cancel_reason, view.order_version) == (
        "cancelled",
        "customer_missing_at_import",
        2,
    )

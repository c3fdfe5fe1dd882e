"""An order migrated from db_per_service: its history opens with
``OrderImported`` (``strangler.introduce_events``). No database needed.

A learner should see that the aggregate folds the snapshot to the order as
it stood (status, lines, total) and that the commands go on from there: an
open imported order can be cancelled (version 2, as the orphan policy does
at import), a closed one cannot.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from order_service.orders.domain import OrderAggregate, OrderLineValue
from shared_events.errors import ApplicationError
from shared_events.events import CUSTOMER_MISSING_AT_IMPORT
from shared_events.write_side import RecordedEvent

ORDER_ID = uuid.uuid4()
CUSTOMER_ID = uuid.uuid4()


def imported(status: str) -> OrderAggregate:
    return OrderAggregate.fold(
        ORDER_ID,
        [
            RecordedEvent(
                event_type="OrderImported",
                payload={
                    "order_id": str(ORDER_ID),
                    "customer_id": str(CUSTOMER_ID),
                    "status": status,
                    "lines": [{"sku": "FIG", "quantity": 3, "unit_price": "4.50"}],
                    "total": "13.50",
                },
                aggregate_version=1,
            )
        ],
    )


def test_an_imported_order_folds_to_its_snapshot():
    order = imported("approved")
    assert (order.customer_id, order.status, order.total, order.version) == (
        CUSTOMER_ID,
        "approved",
        Decimal("13.50"),
        1,
    )
    assert order.lines == [OrderLineValue("FIG", 3, Decimal("4.50"))]
    assert order.placed


def test_an_open_imported_order_is_cancelled_as_version_two():
    order = imported("pending")
    order.cancel(reason=CUSTOMER_MISSING_AT_IMPORT)
    (event,) = order.collect_pending()
    assert (event.event_type, event.aggregate_version) == ("OrderCancelled", 2)
    assert (order.status, order.cancel_reason) == (
        "cancelled",
        "customer_missing_at_import",
    )


@pytest.mark.parametrize("status", ["cancelled", "rejected"])
def test_a_closed_imported_order_cannot_be_cancelled(status):
    with pytest.raises(ApplicationError):
        imported(status).cancel()

"""Step 4 -> 5's judgement of a difference, on its own: which differences the
auditor finds between the read models and the stores are only events on
their way (they touched a row after the rebuild began), which are faults."""

from __future__ import annotations

from observe.audit import RowDifference
from strangler.read_side import on_its_way

CUSTOMER = "6f1c2f3e-0000-4000-8000-000000000001"
ORDER = "6f1c2f3e-0000-4000-8000-000000000002"


def test_a_row_an_event_after_the_rebuild_touched_is_on_its_way():
    summary = RowDifference(
        table="read_customer_summary", row_id=CUSTOMER, kind="different"
    )
    assert on_its_way(summary, {CUSTOMER})


def test_an_order_view_of_a_customer_touched_after_the_rebuild_is_on_its_way():
    view = RowDifference(
        table="read_order_view",
        row_id=ORDER,
        kind="different",
        expected={"customer_id": CUSTOMER, "customer_name": "Renamed"},
    )
    assert on_its_way(view, {CUSTOMER})


def test_a_row_no_later_event_explains_is_a_fault():
    missing = RowDifference(
        table="read_order_view",
        row_id=ORDER,
        kind="missing",
        expected={"customer_id": CUSTOMER},
    )
    assert not on_its_way(missing, set())
    extra = RowDifference(table="read_customer_summary", row_id=CUSTOMER, kind="extra")
    assert not on_its_way(extra, {ORDER})

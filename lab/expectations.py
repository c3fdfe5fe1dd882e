"""What the paper predicts for each scenario and approach, checked against the numbers.

A lesson is written from the numbers; this says when the numbers contradict
what the paper expects, so a learner (or a test) sees a surprise at once.
"""

from __future__ import annotations

from collections.abc import Callable

from lab.measurements import Measurements

EVENT_DRIVEN = {"direct_publish", "event_sourcing", "cqrs_es"}
OUTBOX = {"event_sourcing", "cqrs_es"}

Check = Callable[[str, Measurements], str | None]


def _delete_customer(approach: str, m: Measurements) -> str | None:
    if approach == "db_per_service":
        return None if m.orphan_orders > 0 else "expected orphan orders"
    return None if m.orphan_orders == 0 else "expected no orphan orders"


def _customer_service_down(approach: str, m: Measurements) -> str | None:
    failed = m.failed_request_count
    if approach == "db_per_service":
        return None if failed > 0 else "expected failed placements"
    return None if failed == 0 else "expected no failed placements"


def _crash_before_publish(approach: str, m: Measurements) -> str | None:
    if approach == "direct_publish":
        return None if (m.events_lost or 0) > 0 else "expected a lost event"
    return None if not m.events_lost else "expected no lost event"


def _broker_outage(approach: str, m: Measurements) -> str | None:
    if approach in OUTBOX:
        return None if not m.events_lost else "expected nothing lost"
    return None


def _duplicate_delivery(approach: str, m: Measurements) -> str | None:
    if approach in EVENT_DRIVEN:
        return None if m.duplicate_effects == 0 else "expected no duplicate effects"
    return None


def _schema_change(approach: str, m: Measurements) -> str | None:
    failed = m.failed_request_count
    if approach == "shared_db":
        return None if failed > 0 else "expected the order service to fail"
    return None if failed == 0 else "expected the order service to keep working"


def _concurrent_update(approach: str, m: Measurements) -> str | None:
    conflicts = m.failed_requests.get("409", 0)
    return (
        None
        if conflicts == m.failed_request_count and conflicts > 0
        else ("expected exactly one winner and 409 for the others")
    )


EXPECTATIONS: dict[str, Check] = {
    "delete-customer": _delete_customer,
    "customer-service-down": _customer_service_down,
    "crash-before-publish": _crash_before_publish,
    "broker-outage": _broker_outage,
    "duplicate-delivery": _duplicate_delivery,
    "schema-change": _schema_change,
    "concurrent-update": _concurrent_update,
}


def contradiction(scenario: str, approach: str, m: Measurements) -> str | None:
    check = EXPECTATIONS.get(scenario)
    return check(approach, m) if check else None

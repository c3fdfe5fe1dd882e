"""What the paper predicts for each scenario and approach, checked against the numbers.

A lesson is written from the numbers; this says when the numbers contradict
what the paper expects, so a learner (or a test) sees a surprise at once.
Every scenario has an expectation here, and on top of it one rule holds for
all: events are lost only where the paper predicts loss, a dual write under
a crash or a broker outage. Events still on their way are lag, never loss.
"""

from __future__ import annotations

from collections.abc import Callable

from lab.measurements import Measurements
from shared_events.approaches import approach_info

Check = Callable[[str, Measurements], str | None]

# The scenarios in which the paper predicts that a dual write loses events.
LOSS_PREDICTED = {"crash-before-publish", "broker-outage"}


def _uses_events(approach: str) -> bool:
    return approach_info(approach).uses_events


def _has_outbox(approach: str) -> bool:
    return bool(approach_info(approach).outbox_services)


def _some_only_if(predicted: bool, count: int, some: str, none: str) -> str | None:
    """A count above 0 where the paper predicts one, 0 elsewhere; else the surprise."""
    if predicted:
        return None if count > 0 else f"expected {some}"
    return None if count == 0 else f"expected {none}"


def _delete_customer(approach: str, m: Measurements) -> str | None:
    asks = approach_info(approach).asks_customer_service
    return _some_only_if(asks, m.orphan_orders, "orphan orders", "no orphan orders")


def _customer_service_down(approach: str, m: Measurements) -> str | None:
    asks = approach_info(approach).asks_customer_service
    return _some_only_if(
        asks, m.failed_request_count, "failed placements", "no failed placements"
    )


def _crash_before_publish(approach: str, m: Measurements) -> str | None:
    if approach_info(approach).publishes_directly:
        return None if (m.events_lost or 0) > 0 else "expected a lost event"
    return None if not m.events_lost else "expected no lost event"


def _broker_outage(approach: str, m: Measurements) -> str | None:
    if _has_outbox(approach):
        return None if not m.events_lost else "expected nothing lost"
    return None


def _duplicate_delivery(approach: str, m: Measurements) -> str | None:
    if _uses_events(approach):
        return None if m.duplicate_effects == 0 else "expected no duplicate effects"
    return None


def _schema_change(approach: str, m: Measurements) -> str | None:
    shares = approach_info(approach).shares_database
    return _some_only_if(
        shares,
        m.failed_request_count,
        "the order service to fail",
        "the order service to keep working",
    )


def _concurrent_update(approach: str, m: Measurements) -> str | None:
    conflicts = m.failed_requests.get("409", 0)
    return (
        None
        if conflicts == m.failed_request_count and conflicts > 0
        else ("expected exactly one winner and 409 for the others")
    )


def _burst(approach: str, m: Measurements) -> str | None:
    if _has_outbox(approach) and m.events_lost != 0:
        return "expected nothing lost: a backlog is lag, and the outbox keeps it"
    if _uses_events(approach) and m.duplicate_effects:
        return "expected no duplicate effects"
    return None


def _consumers_down(approach: str, m: Measurements) -> str | None:
    if not _uses_events(approach):
        return None
    if m.events_lost:
        return "expected nothing lost: a stopped consumer's events wait in its queue"
    if not m.not_yet_applied:
        return "expected changes not yet applied while the consumers are down"
    return None


EXPECTATIONS: dict[str, Check] = {
    "delete-customer": _delete_customer,
    "customer-service-down": _customer_service_down,
    "crash-before-publish": _crash_before_publish,
    "broker-outage": _broker_outage,
    "duplicate-delivery": _duplicate_delivery,
    "schema-change": _schema_change,
    "concurrent-update": _concurrent_update,
    "burst": _burst,
    "consumers-down": _consumers_down,
}


def contradiction(scenario: str, approach: str, m: Measurements) -> str | None:
    check = EXPECTATIONS.get(scenario)
    surprise = check(approach, m) if check else None
    if surprise:
        return surprise
    loss_expected = (
        scenario in LOSS_PREDICTED and approach_info(approach).publishes_directly
    )
    if m.events_lost and not loss_expected:
        return f"{m.events_lost} events lost where the paper predicts no loss"
    return None

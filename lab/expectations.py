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
from lab.scenarios import add_consumer as joining
from lab.scenarios import credit_limit_race as race
from lab.scenarios import delete_customer as deletion
from lab.scenarios import edge_throttle as edge
from lab.scenarios import read_after_write as raw
from lab.scenarios import slow_customer_service as slow
from lab.scenarios import strangle_the_monolith as strangler
from lab.scenarios import traced_deletion as traced
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
    surprise = _some_only_if(asks, m.orphan_orders, "orphan orders", "no orphan orders")
    if surprise:
        return surprise
    # Failures are events too: where the customer service knows the orders
    # holding credit (the saga), a plain deletion is refused and recorded.
    saga = approach_info(approach).event_sourced("order")
    refused = m.figures.get(deletion.DELETION, {}).get(deletion.REFUSED)
    if refused is not None and bool(refused) != saga:
        return (
            "expected the first deletion refused for open orders"
            if saga
            else "expected the deletion to go through at once"
        )
    return None


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


def _slow_customer_service(approach: str, m: Measurements) -> str | None:
    phases = m.figures
    if slow.SLOW not in phases:
        return "expected the slow phase to be measured"
    if approach_info(approach).asks_customer_service:
        if not phases[slow.SLOW][slow.TIMEOUTS]:
            return "expected placements to time out while the customer service is slow"
        retrying = phases.get(slow.RETRYING)
        if retrying is None or retrying[slow.CUSTOMER_REQUESTS] <= 1:
            return (
                "expected retries to send the customer service more than one "
                "request per order"
            )
        return None
    if phases[slow.SLOW][slow.CUSTOMER_REQUESTS] or m.failed_request_count:
        return (
            "expected placement to ask the customer service nothing and to keep working"
        )
    return None


def _read_after_write(approach: str, m: Measurements) -> str | None:
    refused = m.figures.get(raw.PLACEMENTS, {}).get(raw.REFUSED)
    stale = m.figures.get(raw.READS, {}).get(raw.STALE)
    if refused is None or stale is None:
        return "expected the reads and placements to be measured"
    info = approach_info(approach)
    if not (info.keeps_replica or info.read_side):
        if refused or stale:
            return "expected every read and placement to see the write at once"
        return None
    if not refused and not stale:
        return (
            "expected a refused placement or a stale read right after a write "
            "(eventual consistency)"
        )
    remedy = m.figures.get(raw.REMEDY)
    if info.read_side and (remedy is None or remedy[raw.STALE]):
        return "expected no stale read with ?min_version= (read your writes)"
    return None


def _edge_throttle(approach: str, m: Measurements) -> str | None:
    """The same under every approach: the gateway stands before them all."""
    through = m.figures.get(edge.THROUGH_THE_GATEWAY)
    straight = m.figures.get(edge.STRAIGHT_TO_THE_SERVICES)
    if through is None or straight is None:
        return "expected the burst to be measured through the gateway and past it"
    if not through[edge.REFUSED]:
        return "expected the gateway to refuse part of the burst with 429"
    if through[edge.ANSWERED] + through[edge.REFUSED] != through[edge.SENT]:
        return "expected every request to be answered 2xx or refused at the edge"
    if through[edge.REACHED] != through[edge.ANSWERED]:
        return (
            "expected the services to receive exactly the requests the gateway "
            "let through"
        )
    if straight[edge.REACHED] != straight[edge.SENT]:
        return "expected every request sent past the gateway to reach a service"
    if m.figures.get(edge.RECOVERY, {}).get(edge.SERVED_AFTER) is None:
        return "expected the client to be served again after its Retry-After"
    return None


def _traced_deletion(approach: str, m: Measurements) -> str | None:
    trace = m.figures.get(traced.TRACE)
    if not trace or not trace[traced.SPANS]:
        return "expected the deletion's spans in the span store"
    if trace[traced.ORPHANS]:
        return "expected every span's parent in the trace"
    caused = trace[traced.CAUSED_IN_TRACE]
    if approach_info(approach).uses_events and not caused:
        return "expected the OrderCancelled the deletion caused in the same trace"
    if not approach_info(approach).uses_events and caused:
        return "expected no other process to hear of the deletion"
    return None


def _add_consumer(approach: str, m: Measurements) -> str | None:
    """Paper: a new consumer joins with no change to the producers, and its
    state, built from the history and then the live events, converges."""
    join = m.figures.get(joining.JOIN)
    if not join:
        return "expected the analytics service to join"
    if join[joining.MISMATCHED] or join[joining.CONVERGED] is None:
        return "expected the analytics service to converge: 0 rows differing"
    if join[joining.RESTARTED] or join[joining.SETTINGS_CHANGED]:
        return "expected no producer process restarted and no setting changed"
    if not join[joining.REPLAYED]:
        return "expected the past orders to come from the replay"
    if not join[joining.LIVE]:
        return "expected the orders placed after the join to come from the inbox"
    return None


def _credit_limit_race(approach: str, m: Measurements) -> str | None:
    """The paper: a rule across services needs a saga; a check over the
    network, then a write, lets concurrent commands through together."""
    orders, credit = m.figures.get(race.ORDERS), m.figures.get(race.CREDIT)
    if not orders or not credit:
        return "expected the orders' outcomes measured"
    if approach_info(approach).event_sourced("order"):
        if credit[race.BROKEN]:
            return "expected the saga to hold the limit"
        if orders[race.PENDING]:
            return "expected no order left pending once the platform is quiet"
        return None
    if not credit[race.BROKEN]:
        return "expected orders checked then placed at once to break the limit"
    return None


def _strangle_the_monolith(approach: str, m: Measurements) -> str | None:
    """The strangler fig: the platform moves along the paper's path with its
    data while it serves, and nothing a client was told is lost or doubled."""
    end = m.figures.get(strangler.END, {})
    if end.get(strangler.MIGRATED) != len(strangler.STEPS):
        return "expected every step of the path to be migrated"
    if strangler.LOST not in end:
        return (
            "expected the platform to go quiet after the last move, so that "
            "what is missing can be counted as lost"
        )
    if end.get(strangler.LOST) or end.get(strangler.DUPLICATED):
        return "expected nothing lost or doubled on the way"
    if end.get(strangler.DEAD_LETTERED):
        return (
            f"expected every event applied, but {end[strangler.DEAD_LETTERED]} "
            "were dead-lettered on the way (their reasons are on the messages)"
        )
    if not all(m.figures.get(s, {}).get(strangler.AUDIT) for s in strangler.STEPS):
        return "expected the auditor to find every copy equal after each step"
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
    "slow-customer-service": _slow_customer_service,
    "read-after-write": _read_after_write,
    "edge-throttle": _edge_throttle,
    "traced-deletion": _traced_deletion,
    "add-consumer": _add_consumer,
    "credit-limit-race": _credit_limit_race,
    "strangle-the-monolith": _strangle_the_monolith,
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

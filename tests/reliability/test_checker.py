"""The checker finds what it claims to find, on made-up histories."""

from __future__ import annotations

import json
from decimal import Decimal

import requests

from observe.audit.fold import WriteSideFold
from tests.reliability.history import (
    ACKNOWLEDGED,
    INDETERMINATE,
    NOT_APPLIED,
    REFUSED,
    Applied,
    Command,
    Committed,
    check,
    saga_violations,
)
from tests.reliability.rounds import outcome_of

SUBSCRIPTIONS = {"order-inbox": ("customer",)}


def _history(versions=(1, 2, 3)):
    return [Committed(f"e{v}", "customer", "c1", v) for v in versions]


def _applied(versions, *, consumer="order-inbox", ids=None):
    ids = ids or [f"e{v}" for v in versions]
    return [
        Applied(consumer, event_id, "c1", version, (position, position))
        for position, (event_id, version) in enumerate(zip(ids, versions, strict=True))
    ]


def test_a_clean_history_passes():
    verdict = check(_history(), _applied([1, 2, 3]), SUBSCRIPTIONS)
    assert verdict.ok
    assert (verdict.committed, verdict.applied) == (3, 3)


def test_an_event_never_applied_is_lost():
    verdict = check(_history(), _applied([1, 2]), SUBSCRIPTIONS)
    assert verdict.lost == [("order-inbox", "e3")]
    assert not verdict.ok


def test_an_event_applied_twice_is_a_duplicated_effect():
    verdict = check(
        _history(), _applied([1, 2, 3, 3], ids=["e1", "e2", "e3", "e3"]), SUBSCRIPTIONS
    )
    assert verdict.duplicated_effects


def test_an_event_never_committed_is_unexpected():
    verdict = check(
        _history((1, 2)), _applied([1, 2, 3], ids=["e1", "e2", "zz"]), SUBSCRIPTIONS
    )
    assert verdict.unexpected == [("order-inbox", "zz")]


def test_versions_applied_backwards_are_out_of_order():
    verdict = check(
        _history(), _applied([1, 3, 2], ids=["e1", "e3", "e2"]), SUBSCRIPTIONS
    )
    assert verdict.out_of_order == [("order-inbox", "c1")]


def test_events_of_producers_not_subscribed_are_not_expected():
    history = _history() + [Committed("o1", "order", "x1", 1)]
    assert check(history, _applied([1, 2, 3]), SUBSCRIPTIONS).ok


# The clients' history: commands, their correlation ids, what the client heard.


def _recorded(*correlation_ids):
    """One event per correlation id, versions 1, 2, ... of aggregate c1."""
    return [
        Committed(f"e{version}", "customer", "c1", version, correlation_id)
        for version, correlation_id in enumerate(correlation_ids, start=1)
    ]


def test_an_indeterminate_command_recorded_and_applied_once_passes():
    commands = [
        Command("k1", "register", ACKNOWLEDGED),
        Command("k2", "rename", INDETERMINATE),
    ]
    verdict = check(_recorded("k1", "k2"), _applied([1, 2]), SUBSCRIPTIONS, commands)
    assert verdict.ok, verdict.line()
    assert (verdict.indeterminate, verdict.indeterminate_committed) == (1, 1)


def test_an_indeterminate_command_applied_twice_is_a_duplicated_effect():
    commands = [Command("k1", "register", INDETERMINATE)]
    applied = _applied([1, 1], ids=["e1", "e1"])
    verdict = check(_recorded("k1"), applied, SUBSCRIPTIONS, commands)
    assert verdict.duplicated_effects == ["order-inbox: e1 applied 2 times"]


def test_an_indeterminate_command_that_never_committed_is_not_lost():
    commands = [
        Command("k1", "register", ACKNOWLEDGED),
        Command("k2", "rename", INDETERMINATE),
    ]
    verdict = check(_recorded("k1"), _applied([1]), SUBSCRIPTIONS, commands)
    assert verdict.ok, verdict.line()
    assert (verdict.indeterminate, verdict.indeterminate_committed) == (1, 0)


def test_an_acknowledged_command_never_recorded_is_lost():
    commands = [
        Command("k1", "register", ACKNOWLEDGED),
        Command("k2", "rename", ACKNOWLEDGED),
    ]
    verdict = check(_recorded("k1"), _applied([1]), SUBSCRIPTIONS, commands)
    assert verdict.lost == [("event-store", "rename k2")]


def test_a_refused_command_may_record_its_refusal():
    commands = [Command("k1", "place", REFUSED), Command("k2", "place", REFUSED)]
    verdict = check(_recorded("k1"), _applied([1]), SUBSCRIPTIONS, commands)
    assert verdict.ok, verdict.line()


def test_a_command_recorded_twice_is_a_duplicated_effect():
    commands = [Command("k1", "register", INDETERMINATE)]
    verdict = check(_recorded("k1", "k1"), _applied([1, 2]), SUBSCRIPTIONS, commands)
    assert verdict.duplicated_effects == ["event-store: register k1 recorded 2 times"]


def test_an_event_caused_by_a_command_is_not_counted_as_its_record():
    """The order a deletion cancelled carries the deletion's correlation id and
    names the deletion as its cause: a consequence, not a second record."""
    commands = [Command("k1", "delete", ACKNOWLEDGED)]
    deletion = Committed("e1", "customer", "c1", 1, "k1")
    cancelled = Committed("o1", "order", "x1", 1, "k1", causation_id="e1")
    verdict = check([deletion, cancelled], _applied([1]), SUBSCRIPTIONS, commands)
    assert verdict.duplicated_effects == [], verdict.line()


def test_an_indeterminate_command_once_recorded_must_reach_every_subscriber():
    """The event store settles what the client could not know: committed is
    committed, and the outbox promises it to every subscriber."""
    commands = [
        Command("k1", "register", ACKNOWLEDGED),
        Command("k2", "rename", INDETERMINATE),
    ]
    verdict = check(_recorded("k1", "k2"), _applied([1]), SUBSCRIPTIONS, commands)
    assert verdict.lost == [("order-inbox", "e2")]


def test_a_command_answered_nothing_changed_must_have_recorded_nothing():
    """A 503 from a throttled event store says the commit was not taken: an
    event recorded under its correlation id is unexpected."""
    commands = [
        Command("k1", "register", ACKNOWLEDGED),
        Command("k2", "rename", NOT_APPLIED),
        Command("k3", "rename", NOT_APPLIED),
    ]
    verdict = check(_recorded("k1", "k2"), _applied([1, 2]), SUBSCRIPTIONS, commands)
    assert verdict.unexpected == [
        (
            "event-store",
            "rename k2 answered 503 (nothing changed) but recorded 1 event(s)",
        )
    ]
    assert not verdict.ok
    assert verdict.not_applied == 2


def _answer(status: int, detail: str = "") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps({"detail": detail}).encode()
    return response


def test_what_a_client_learns_from_each_answer():
    throttled = (
        "the event store (DynamoDB table t) did not take the commit; try again. "
        "ProvisionedThroughputExceededException: ..."
    )
    lost_answer = (
        "the event store (DynamoDB table t) did not answer the commit (it may "
        "have been applied: read before repeating the command); try again."
    )
    assert outcome_of(_answer(201)) == ACKNOWLEDGED
    assert outcome_of(_answer(409, "changed by someone else")) == REFUSED
    assert outcome_of(_answer(503, throttled)) == NOT_APPLIED
    assert outcome_of(_answer(503, lost_answer)) == INDETERMINATE
    assert outcome_of(_answer(503, "the database could not be reached")) == (
        INDETERMINATE
    )
    assert outcome_of(None) == INDETERMINATE


# The credit saga's invariants, on made-up event stores --------------------------


def _saga_fold(*events):
    """A fold of (aggregate, version, event type, payload) rows; ``c1`` is the
    customer, any other id an order of theirs."""
    fold = WriteSideFold()
    for aggregate, version, event_type, payload in events:
        is_order = aggregate != "c1"
        ids = {"customer_id": "c1", **({"order_id": aggregate} if is_order else {})}
        fold.apply(
            {
                "aggregate_type": "Order" if is_order else "Customer",
                "aggregate_id": aggregate,
                "aggregate_version": version,
                "event_type": event_type,
                "payload": {**ids, **payload},
                "occurred_at": None,
            }
        )
    return fold


REGISTERED = (
    "c1",
    1,
    "CustomerRegistered",
    {"name": "A", "email": "a@b.c", "address": "x"},
)
PLACED = {
    "lines": [{"sku": "S", "quantity": 1, "unit_price": "40.00"}],
    "total": "40.00",
}


def _reserved(version, order):
    return ("c1", version, "CreditReserved", {"order_id": order, "amount": "40.00"})


def test_a_saga_that_ran_to_its_end_breaks_no_invariant():
    fold = _saga_fold(
        REGISTERED,
        ("o1", 1, "OrderPlaced", PLACED),
        ("o2", 1, "OrderPlaced", PLACED),
        _reserved(2, "o1"),
        (
            "c1",
            3,
            "CreditLimitExceeded",
            {"order_id": "o2", "amount": "40.00", "available": "20.00"},
        ),
        ("o1", 2, "OrderApproved", {}),
        ("o2", 2, "OrderRejected", {"reason": "credit_limit_exceeded"}),
    )

    assert saga_violations(fold, limit=Decimal("60")) == []


def test_a_pending_order_a_leaked_reservation_and_a_broken_limit_are_named():
    fold = _saga_fold(
        REGISTERED,
        ("o1", 1, "OrderPlaced", PLACED),
        ("o2", 1, "OrderPlaced", PLACED),
        ("o3", 1, "OrderPlaced", PLACED),
        _reserved(2, "o1"),
        _reserved(3, "o2"),
        ("o1", 2, "OrderApproved", {}),
        ("o1", 3, "OrderCancelled", {"reason": "customer_request"}),
        ("o2", 2, "OrderApproved", {}),
    )

    assert saga_violations(fold, limit=Decimal("60")) == [
        "order o3 still pending",
        "customer c1 held 80.00 of a 60 limit",
        "customer c1 holds 80.00 for approved orders worth 40.00",
    ]

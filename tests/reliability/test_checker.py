"""The checker finds what it claims to find, on made-up histories."""

from __future__ import annotations

from tests.reliability.history import Applied, Committed, check

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

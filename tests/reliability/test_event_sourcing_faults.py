"""Fault-injection rounds and concurrent writers under approach 4, event sourcing."""

from __future__ import annotations

import pytest

from tests.reliability.concurrency import (
    concurrent_writers_one_aggregate,
    ten_writers_while_relaying,
)
from tests.reliability.platforms import reliability_platform
from tests.reliability.rounds import STRICT_LIVENESS, run_rounds

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(own_postgres):
    with reliability_platform("event_sourcing", server=own_postgres) as run:
        yield run


def test_fault_rounds_lose_duplicate_and_reorder_nothing(run, own_postgres):
    results = run_rounds(run, server=own_postgres)
    for result in results:
        verdict = result.verdict
        assert result.fault_errors == [], result.fault_errors
        assert result.timeouts == 0, f"seed {result.seed}: requests hung"
        assert result.recovered_after is not None, f"seed {result.seed}: unhealthy"
        assert result.quiet, f"seed {result.seed}: never quiescent: {result.left}"
        assert not (STRICT_LIVENESS and result.relay_hangs), result.line()
        assert verdict.ok, result.line()


def test_concurrent_writers_to_one_aggregate_one_wins_per_version(run):
    outcome = concurrent_writers_one_aggregate(run)
    assert outcome.unexpected_statuses == {}, outcome
    assert outcome.double_winners == [], outcome
    assert outcome.final_version == outcome.wins + 1, outcome
    assert outcome.store_versions == list(range(1, outcome.wins + 2)), outcome


def test_ten_writers_committing_in_random_order_skip_no_event(run):
    outcome = ten_writers_while_relaying(run)
    assert outcome.quiet, outcome.left
    assert outcome.verdict.committed >= outcome.commits
    assert outcome.verdict.lost == [], outcome.verdict.line()
    assert outcome.verdict.ok, outcome.verdict.line()

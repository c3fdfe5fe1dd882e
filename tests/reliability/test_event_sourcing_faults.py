"""Fault-injection rounds and concurrent writers under approach 4, event sourcing."""

from __future__ import annotations

import pytest

from tests.reliability.concurrency import (
    concurrent_writers_one_aggregate,
    ten_writers_while_relaying,
)
from tests.reliability.contract import FaultRoundsContract

pytestmark = pytest.mark.slow


class TestEventSourcingFaults(FaultRoundsContract):
    approach = "event_sourcing"

    def test_concurrent_writers_to_one_aggregate_one_wins_per_version(self, run):
        outcome = concurrent_writers_one_aggregate(run)
        assert outcome.unexpected_statuses == {}, outcome
        assert outcome.double_winners == [], outcome
        assert outcome.final_version == outcome.wins + 1, outcome
        assert outcome.store_versions == list(range(1, outcome.wins + 2)), outcome

    def test_ten_writers_committing_in_random_order_skip_no_event(self, run):
        outcome = ten_writers_while_relaying(run)
        assert outcome.quiet, outcome.left
        assert outcome.verdict.committed >= outcome.commits
        assert outcome.verdict.lost == [], outcome.verdict.line()
        assert outcome.verdict.ok, outcome.verdict.line()

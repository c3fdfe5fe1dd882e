"""Fault-injection rounds under approach 5, CQRS with event sourcing.

Besides approach 4's consumers, every event must reach both read-side
projectors once and in order, and the read models must equal a fold of
both event stores.
"""

from __future__ import annotations

import pytest

from tests.reliability.platforms import reliability_platform
from tests.reliability.rounds import STRICT_LIVENESS, run_rounds

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(own_postgres):
    with reliability_platform("cqrs_es", server=own_postgres) as run:
        yield run


def test_fault_rounds_lose_duplicate_and_reorder_nothing(run, own_postgres):
    results = run_rounds(run, server=own_postgres)
    for result in results:
        assert result.fault_errors == [], result.fault_errors
        assert result.timeouts == 0, f"seed {result.seed}: requests hung"
        assert result.recovered_after is not None, f"seed {result.seed}: unhealthy"
        assert result.quiet, f"seed {result.seed}: never quiescent: {result.left}"
        assert not (STRICT_LIVENESS and result.relay_hangs), result.line()
        assert result.verdict.ok, result.line()

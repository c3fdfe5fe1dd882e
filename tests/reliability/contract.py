"""The fault-injection rounds' contract, written once, run under each approach.

A test module subclasses :class:`FaultRoundsContract` with its ``approach``
(and, for the paper's AWS pictures, its ``backends``); the rounds and any
further tests of the subclass share one platform.
"""

from __future__ import annotations

import pytest

from tests.reliability.platforms import Backends, reliability_platform
from tests.reliability.rounds import STRICT_LIVENESS, run_rounds


class FaultRoundsContract:
    approach: str
    backends: Backends = Backends()

    @pytest.fixture(scope="class")
    @classmethod
    def run(cls, own_postgres):
        with reliability_platform(
            cls.approach, server=own_postgres, backends=cls.backends
        ) as run:
            yield run

    def test_fault_rounds_lose_duplicate_and_reorder_nothing(self, run, own_postgres):
        results = run_rounds(run, server=own_postgres)
        for result in results:
            assert result.fault_errors == [], result.fault_errors
            assert result.timeouts == 0, f"seed {result.seed}: requests hung"
            assert result.recovered_after is not None, f"seed {result.seed}: unhealthy"
            assert result.quiet, f"seed {result.seed}: never quiescent: {result.left}"
            assert not (STRICT_LIVENESS and result.relay_hangs), result.line()
            assert result.verdict.ok, result.line()

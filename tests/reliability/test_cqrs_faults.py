"""Fault-injection rounds under approach 5, CQRS with event sourcing.

Besides approach 4's consumers, every event must reach both read-side
projectors once and in order, and the read models must equal a fold of
both event stores.
"""

from __future__ import annotations

import pytest

from tests.reliability.contract import FaultRoundsContract

pytestmark = pytest.mark.slow


class TestCqrsFaults(FaultRoundsContract):
    approach = "cqrs_es"

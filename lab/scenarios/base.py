"""What a scenario is: a script of HTTP calls and process faults, and a lesson."""

from __future__ import annotations

import abc

from lab.context import SETTLE_SECONDS, ScenarioContext, wait_for
from lab.measurements import Measurements, events_lost, orphan_orders


class Scenario(abc.ABC):
    name: str
    title: str
    # How long eventual consistency gets before anything is measured.
    settle_seconds: float = SETTLE_SECONDS

    @abc.abstractmethod
    def run(self, ctx: ScenarioContext) -> None:
        """Drive the platform through its real APIs and processes."""

    def settle(self, ctx: ScenarioContext) -> None:
        """Give eventual consistency its chance before anything is measured."""
        if ctx.run.uses_events:
            wait_for(
                lambda: orphan_orders(ctx) == 0 and not events_lost(ctx),
                timeout=self.settle_seconds,
            )

    @abc.abstractmethod
    def lesson(self, approach: str, measured: Measurements) -> str:
        """What the numbers show, written from the numbers."""


def n(value) -> str:
    return "n/a" if value is None else str(value)

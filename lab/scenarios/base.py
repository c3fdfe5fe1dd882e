"""What a scenario is: a script of HTTP calls and process faults, and a lesson."""

from __future__ import annotations

import abc
import time
from collections.abc import Callable

from lab.backends import Backend
from lab.context import SETTLE_SECONDS, ScenarioContext
from lab.measurements import Measurements
from observe.quiescence import Backlog

# The deadline for quiet grows with the backlog at this pace: far below what
# the platform drains (tens of events a second on two cores), so a deadline
# missed means the platform stopped draining, not that it was slow.
SLOWEST_DRAIN_PER_SECOND = 10.0
LONGEST_SETTLE_SECONDS = 600.0
PROGRESS_EVERY_SECONDS = 5.0


def settle_deadline(minimum: float, backlog: Backlog) -> float:
    """Seconds to wait for quiet: ``minimum`` plus time for the backlog."""
    return min(
        LONGEST_SETTLE_SECONDS, minimum + backlog.total / SLOWEST_DRAIN_PER_SECOND
    )


class Scenario(abc.ABC):
    name: str
    title: str
    # The shortest wait for the platform to go quiet before anything is measured.
    settle_seconds: float = SETTLE_SECONDS
    # Whether it reads traces: its platform then runs with tracing on.
    traced: bool = False
    # Whether it moves its platform on to another approach (the platform's
    # cost is then measured before it runs).
    moves_platform: bool = False

    @abc.abstractmethod
    def run(self, ctx: ScenarioContext) -> None:
        """Drive the platform through its real APIs and processes."""

    def skip_reason(self, backend: Backend) -> str | None:
        """Why this scenario's fault does not exist on ``backend`` (then it is
        reported as skipped, not run), or None: it applies."""
        return None

    def settle(
        self, ctx: ScenarioContext, progress: Callable[[str], None] = print
    ) -> None:
        """Wait until the platform is quiet, so lag is never measured as loss.

        Quiet means every outbox published, every inbox empty and every
        stream read past by its functions (``observe.quiescence``). The wait
        is bounded by a deadline that grows with the backlog; what is still on
        its way then is reported as not yet applied, never as lost.
        """
        if ctx.probe is None:
            return
        ctx.backlog_at_end = ctx.probe.measure()
        deadline = settle_deadline(self.settle_seconds, ctx.backlog_at_end)
        started = time.monotonic()
        shown = started

        def show(left: Backlog) -> None:
            nonlocal shown
            if time.monotonic() - shown >= PROGRESS_EVERY_SECONDS:
                shown = time.monotonic()
                progress(
                    f"      waiting for the platform to go quiet: {left.describe()} "
                    f"left after {shown - started:.0f}s (deadline {deadline:.0f}s)"
                )

        ctx.quiescence = ctx.probe.wait_until_quiet(timeout=deadline, on_poll=show)

    @abc.abstractmethod
    def lesson(self, approach: str, measured: Measurements) -> str:
        """What the numbers show, written from the numbers."""


def n(value) -> str:
    return "n/a" if value is None else str(value)

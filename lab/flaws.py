"""Did the flaw appear? One sign per scenario, read from the measurements.

Each scenario shows one flaw of the paper's approaches, and one measured
number says whether it appeared in a run: an orphan order, a lost event, a
failed request, a duplicate effect, a lag over a bound. ``FLAW_SIGNS`` is
that table, written once so a learner can read it as it is:

    scenario               the flaw appeared when ...
    delete-customer        orphan orders > 0
    crash-before-publish   events lost > 0
    burst                  lag p99 > 1000 ms
    ...

``flaw_verdict(scenario, measurements)`` applies it to a run's measurements
as the lab's JSON report keeps them (``Measurements.as_dict``). What a
learner should notice: the verdict never comes from the approach's name, only
from what was measured, so a surprise (a flaw where the paper predicts none,
or none where it predicts one) shows as it is. The cockpit's matrix and the
workshop read the same verdicts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lab.scenarios import credit_limit_race as race
from lab.scenarios import read_after_write as raw
from lab.scenarios import strangle_the_monolith as strangler

# Over this, the consistency lag is a flaw a user would notice: a second
# between a change and the other service seeing it.
LAG_BOUND_MS = 1000.0


@dataclass(frozen=True)
class FlawSign:
    """What a flaw looks like in the numbers: ``number`` read from the
    measurements, the flaw appeared when it is over ``bound``."""

    flaw: str
    measured: str
    number: Callable[[dict], float | int | None]
    bound: float = 0

    @property
    def rule(self) -> str:
        return f"{self.measured} > {self.bound:g}"


def _failed(m: dict) -> int:
    return sum((m.get("failed_requests") or {}).values())


def _failed_but_conflicts(m: dict) -> int:
    return sum(
        count
        for status, count in (m.get("failed_requests") or {}).items()
        if status != "409"
    )


def _stale_reads(m: dict) -> int | None:
    return (m.get("figures") or {}).get(raw.READS, {}).get(raw.STALE)


def _broken_limits(m: dict) -> int | None:
    return (m.get("figures") or {}).get(race.CREDIT, {}).get(race.BROKEN)


def _lost_or_doubled_on_the_way(m: dict) -> int | None:
    end = (m.get("figures") or {}).get(strangler.END, {})
    if strangler.LOST not in end:
        return None  # the move did not reach its end
    return end[strangler.LOST] + end[strangler.DUPLICATED]


def _field(name: str) -> Callable[[dict], float | int | None]:
    return lambda m: m.get(name)


ORPHANS = FlawSign("orphan orders", "orphan orders", _field("orphan_orders"))
LOST = FlawSign("lost events", "events lost", _field("events_lost"))
FAILED = FlawSign("failed requests", "failed requests", _failed)
DUPLICATES = FlawSign(
    "duplicate effects", "duplicate effects", _field("duplicate_effects")
)
LAG = FlawSign(
    "consistency lag", "lag p99 ms", _field("lag_p99_ms"), bound=LAG_BOUND_MS
)

FLAW_SIGNS: dict[str, FlawSign] = {
    "delete-customer": ORPHANS,
    "customer-service-down": FAILED,
    "crash-before-publish": LOST,
    "broker-outage": LOST,
    "duplicate-delivery": DUPLICATES,
    "schema-change": FAILED,
    "concurrent-update": FlawSign(
        "lost update", "failed requests but 409", _failed_but_conflicts
    ),
    "burst": LAG,
    "consumers-down": FlawSign(
        "changes not yet applied", "not yet applied", _field("not_yet_applied")
    ),
    "slow-customer-service": FAILED,
    "read-after-write": FlawSign("stale reads", "stale reads", _stale_reads),
    "traced-deletion": ORPHANS,
    "credit-limit-race": FlawSign(
        "credit limit broken", "limits broken", _broken_limits
    ),
    "add-consumer": LOST,
    "strangle-the-monolith": FlawSign(
        "records lost or doubled on the way",
        "lost or doubled",
        _lost_or_doubled_on_the_way,
    ),
}


@dataclass(frozen=True)
class FlawVerdict:
    """``appeared`` is None when the number does not apply to the approach
    (no replica, no event store: "n/a") or the run was skipped."""

    sign: FlawSign
    number: float | int | None
    appeared: bool | None

    @property
    def text(self) -> str:
        """The verdict in words, never in colour only: "flaw: orphan orders 2"."""
        if self.appeared is None:
            return f"n/a ({self.sign.measured})"
        number = self.number
        if isinstance(number, float):
            number = f"{number:.0f}"
        prefix = "flaw" if self.appeared else "no flaw"
        return f"{prefix}: {self.sign.measured} {number}"


def flaw_sign(scenario: str) -> FlawSign:
    """The scenario's sign; a scenario not in the table is judged by lost events."""
    return FLAW_SIGNS.get(scenario, LOST)


def flaw_verdict(scenario: str, measurements: dict | None) -> FlawVerdict:
    sign = flaw_sign(scenario)
    number = sign.number(measurements) if measurements is not None else None
    appeared = None if number is None else number > sign.bound
    return FlawVerdict(sign=sign, number=number, appeared=appeared)

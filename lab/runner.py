"""Run scenarios under approaches on real processes, and measure each run.

One platform is started per approach (fresh databases, local AWS, web
servers, consumers, relays) and every chosen scenario runs on it in turn,
each with its own customers, so its measurements count only what it did.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lab.client import PlatformClient
from lab.context import ScenarioContext
from lab.measurements import FEEDING_INBOX, Measurements, measure
from lab.scenarios import SCENARIOS, Scenario
from observe.audit import AuditDatabases, audit_consistency
from observe.quiescence import BacklogProbe, Quiescence
from observe.tables import REPLICA_TABLE
from shared_events.approaches import APPROACHES, Approach
from stack import environment
from stack.platform_run import PlatformRun, running_platform

LAB_PREFIX = "lab_"
# How long a scenario's leftovers (a consumer that was stopped) get to arrive
# before the next scenario resets the data.
CATCH_UP_SECONDS = 120.0


@dataclass
class ScenarioResult:
    scenario: str
    approach: str
    measurements: Measurements
    lesson: str
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "scenario": self.scenario,
            "approach": self.approach,
            "measurements": self.measurements.as_dict(),
            "lag_samples_ms": [round(v, 1) for v in self.measurements.lag_samples_ms],
            "lesson": self.lesson,
            "notes": self.notes,
            "seconds": round(self.seconds, 2),
        }


def audit_verdict(run: PlatformRun, quiescence: Quiescence | None) -> str:
    """The auditor's verdict on the whole platform after a scenario.

    A difference is drift only once the platform is quiet. If it is still
    busy, a difference whose table is fed by a path that still carries
    events (an unpublished outbox row, a message in the inbox of the
    consumer that writes that table) is lag, reported as "in flight".
    """
    report = audit_consistency(run.approach, AuditDatabases.of_platform(run))
    if report.consistent:
        return "consistent"
    busy: set[str] = set()
    if quiescence is not None and not quiescence.quiet:
        busy = {
            table
            for table, inbox in FEEDING_INBOX.items()
            if quiescence.left.carries(inbox)
        }
    in_flight = sum(1 for d in report.differences if d.table in busy)
    drift = len(report.differences) - in_flight
    orphans = len(report.orphan_orders)
    if REPLICA_TABLE in busy:
        in_flight, orphans = in_flight + orphans, 0
    parts = []
    if drift:
        parts.append(f"{drift} differences")
    if orphans:
        parts.append(f"{orphans} orphans")
    if in_flight:
        parts.append(f"{in_flight} in flight")
    return ", ".join(parts)


def run_scenario_on(
    run: PlatformRun, scenario: Scenario, progress: Callable[[str], None] = print
) -> ScenarioResult:
    client = PlatformClient(
        customer_url=run.url("customer"), order_url=run.url("order"), token=run.token
    )
    ctx = ScenarioContext(
        run=run, client=client, probe=BacklogProbe(run) if run.uses_events else None
    )
    started = time.monotonic()
    try:
        try:
            scenario.run(ctx)
        finally:
            for service in ("customer", "order"):
                if not run.services[service].running():
                    run.restart_web(service)
        ctx.finished = ctx.finished or time.monotonic()
        scenario.settle(ctx, progress)
        measured = measure(ctx)
        measured.audit = audit_verdict(run, ctx.quiescence)
    finally:
        ctx.clean_up()
    lesson = scenario.lesson(run.approach, measured)
    return ScenarioResult(
        scenario=scenario.name,
        approach=run.approach,
        measurements=measured,
        lesson=lesson,
        notes=ctx.notes,
        seconds=time.monotonic() - started,
    )


def catch_up(run: PlatformRun, progress: Callable[[str], None]) -> None:
    """Let what the last scenario left on its way arrive before the data is reset,
    so it cannot land in the next scenario's tables."""
    outcome = BacklogProbe(run).wait_until_quiet(timeout=CATCH_UP_SECONDS)
    if not outcome.quiet:
        progress(
            f"      still not quiet after {outcome.waited_seconds:.0f}s: "
            f"{outcome.left.describe()} left; the next scenario starts anyway"
        )


def run_lab(
    *,
    scenarios: list[str | Scenario],
    approaches: list[str],
    progress: Callable[[str], None] = print,
) -> list[ScenarioResult]:
    scenarios = [SCENARIOS[s] if isinstance(s, str) else s for s in scenarios]
    environment.ensure_local_secrets()
    server_url = environment.ensure_database_server()
    results: list[ScenarioResult] = []
    total = len(scenarios) * len(approaches)
    done = 0
    for approach in approaches:
        info = APPROACHES[Approach(approach)]
        progress(f"[{info.label}] starting the platform...")
        started = time.monotonic()
        with running_platform(
            approach=approach, server_url=server_url, prefix=LAB_PREFIX
        ) as run:
            progress(f"[{approach}] platform up in {time.monotonic() - started:.1f}s")
            for index, scenario in enumerate(scenarios):
                if index:
                    if (
                        run.uses_events
                        and results[-1].measurements.drain_seconds is None
                    ):
                        catch_up(run, progress)
                    run.reset_data()
                done += 1
                progress(f"[{done}/{total}] {scenario.name} under {approach}...")
                result = run_scenario_on(run, scenario, progress)
                results.append(result)
                m = result.measurements
                progress(
                    f"      orphans {m.orphan_orders}, lost {_n(m.events_lost)}, "
                    f"not yet applied {_n(m.not_yet_applied)}, duplicates "
                    f"{_n(m.duplicate_effects)}, failed {m.failed_request_count}, "
                    f"audit {m.audit} ({result.seconds:.1f}s)"
                )
    return results


def _n(value) -> str:
    return "n/a" if value is None else str(value)

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
from lab.context import SETTLE_SECONDS, ScenarioContext
from lab.measurements import Measurements, measure
from lab.scenarios import SCENARIOS
from shared_events.approaches import APPROACHES, Approach
from stack import environment
from stack.platform_run import PlatformRun, running_platform

LAB_PREFIX = "lab_"


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


def audit_verdict(run: PlatformRun) -> str:
    """The auditor's verdict on the whole platform after a scenario."""
    from stack.audit import AuditDatabases, audit_until_settled

    read_side = run.info.read_side
    databases = AuditDatabases(
        customer=run.database_url("customer"),
        order=run.database_url("order"),
        customer_read=run.read_database_url("customer") if read_side else None,
        order_read=run.read_database_url("order") if read_side else None,
    )
    # Under the event-driven approaches a difference may only be lag: wait a
    # little, so the verdict tells lag (it goes away) from drift (it stays).
    wait = SETTLE_SECONDS if run.uses_events else 0.0
    report = audit_until_settled(run.approach, databases, wait_seconds=wait)
    if report.consistent:
        return "consistent"
    parts = []
    if report.differences:
        parts.append(f"{len(report.differences)} differences")
    if report.orphan_orders:
        parts.append(f"{len(report.orphan_orders)} orphans")
    return ", ".join(parts)


def run_scenario_on(run: PlatformRun, name: str) -> ScenarioResult:
    scenario = SCENARIOS[name]
    client = PlatformClient(
        customer_url=run.url("customer"), order_url=run.url("order"), token=run.token
    )
    ctx = ScenarioContext(run=run, client=client)
    started = time.monotonic()
    try:
        scenario.run(ctx)
    finally:
        for service in ("customer", "order"):
            if not run.services[service].running():
                run.restart_web(service)
    ctx.finished = ctx.finished or time.monotonic()
    scenario.settle(ctx)
    measured = measure(ctx)
    measured.audit = audit_verdict(run)
    lesson = scenario.lesson(run.approach, measured)
    return ScenarioResult(
        scenario=name,
        approach=run.approach,
        measurements=measured,
        lesson=lesson,
        notes=ctx.notes,
        seconds=time.monotonic() - started,
    )


def run_lab(
    *,
    scenarios: list[str],
    approaches: list[str],
    progress: Callable[[str], None] = print,
) -> list[ScenarioResult]:
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
            for index, name in enumerate(scenarios):
                if index:
                    run.reset_data()
                done += 1
                progress(f"[{done}/{total}] {name} under {approach}...")
                result = run_scenario_on(run, name)
                results.append(result)
                m = result.measurements
                progress(
                    f"      orphans {m.orphan_orders}, lost {_n(m.events_lost)}, "
                    f"duplicates {_n(m.duplicate_effects)}, failed "
                    f"{m.failed_request_count}, audit {m.audit} "
                    f"({result.seconds:.1f}s)"
                )
    return results


def _n(value) -> str:
    return "n/a" if value is None else str(value)

"""Run scenarios under approaches on real processes, and measure each run.

One platform is started per approach and backend (fresh databases, local
AWS, web servers, consumers, relays or the event source mapping runner) and
every chosen scenario runs on it in turn, each with its own customers, so
its measurements count only what it did. A scenario whose fault does not
exist on a backend (``Scenario.skip_reason``) is reported as skipped, with
the reason, and not run. Once its scenarios are done, each platform's cost
is measured while it still runs (``lab.costs``: what CQRS costs).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lab.backends import Backend
from lab.client import PlatformClient
from lab.context import ScenarioContext
from lab.costs import PlatformCost, measure_cost
from lab.measurements import FEEDING_INBOX, Measurements, measure
from lab.reset import reset_between_scenarios
from lab.scenarios import SCENARIOS, Scenario
from observe.audit import AuditDatabases, audit_consistency
from observe.quiescence import BacklogProbe, Quiescence
from observe.tables import REPLICA_TABLE
from shared_events.approaches import APPROACHES, Approach
from stack import environment
from stack.platform_run import PlatformRun, running_platform

LAB_PREFIX = "lab_"


@dataclass
class ScenarioResult:
    scenario: str
    approach: str
    # None when the scenario was skipped on this backend (``skipped`` says why).
    measurements: Measurements | None
    lesson: str
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    delivery: str = "sns"
    store: str = "postgres"
    skipped: str = ""

    @property
    def backend(self) -> Backend:
        return Backend(self.approach, self.delivery, self.store)

    @property
    def label(self) -> str:
        """The row's name in a report: the approach, and its backends if not
        the default ones."""
        return self.backend.label

    @classmethod
    def from_dict(cls, data: dict) -> ScenarioResult:
        """A result read back from a report's JSON (``as_dict``'s inverse), so
        a past run can be charted again without running it."""
        measured = data.get("measurements")
        measurements = None
        if measured is not None:
            fields = {k: v for k, v in measured.items() if k != "drain_rate"}
            measurements = Measurements(
                **fields,
                lag_samples_ms=list(data.get("lag_samples_ms") or []),
                answers=[tuple(answer) for answer in data.get("answers") or []],
            )
        return cls(
            scenario=data["scenario"],
            approach=data["approach"],
            measurements=measurements,
            lesson=data.get("lesson", ""),
            notes=list(data.get("notes") or []),
            seconds=data.get("seconds", 0.0),
            delivery=data.get("delivery", "sns"),
            store=data.get("store", "postgres"),
            skipped=data.get("skipped") or "",
        )

    def as_dict(self) -> dict:
        m = self.measurements
        return {
            "scenario": self.scenario,
            "approach": self.approach,
            "backend": self.label,
            "delivery": self.delivery,
            "store": self.store,
            "skipped": self.skipped or None,
            "measurements": m.as_dict() if m is not None else None,
            "lag_samples_ms": [round(v, 1) for v in m.lag_samples_ms] if m else [],
            "answers": [list(answer) for answer in m.answers] if m else [],
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
    # The row's approach is the one the scenario started on, even when it
    # moved the platform on (strangle-the-monolith).
    backend = backend_of(run)
    ctx = ScenarioContext(
        run=run,
        client=client,
        probe=BacklogProbe(run) if run.uses_events else None,
        progress=progress,
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
    lesson = scenario.lesson(backend.approach, measured)
    return ScenarioResult(
        scenario=scenario.name,
        approach=backend.approach,
        measurements=measured,
        lesson=lesson,
        notes=ctx.notes,
        seconds=time.monotonic() - started,
        delivery=backend.delivery,
        store=backend.store,
    )


def backend_of(run: PlatformRun) -> Backend:
    return Backend(
        run.approach,
        run.env.get("EVENT_DELIVERY", "sns"),
        run.env.get("EVENT_STORE", "postgres"),
    )


def skipped_result(scenario: Scenario, backend: Backend, reason: str) -> ScenarioResult:
    return ScenarioResult(
        scenario=scenario.name,
        approach=backend.approach,
        measurements=None,
        lesson=f"skipped: {reason}",
        delivery=backend.delivery,
        store=backend.store,
        skipped=reason,
    )


@dataclass
class LabRun:
    """What a lab run measured: a result per scenario and platform, and what
    each platform cost."""

    results: list[ScenarioResult] = field(default_factory=list)
    costs: list[PlatformCost] = field(default_factory=list)


def run_lab(
    *,
    scenarios: list[str | Scenario],
    approaches: list[str] = (),
    backends: list[Backend] = (),
    progress: Callable[[str], None] = print,
) -> LabRun:
    """Every scenario under every approach (on the default backends), then under
    every backend named; one platform each, its cost measured after its
    scenarios."""
    scenarios = [SCENARIOS[s] if isinstance(s, str) else s for s in scenarios]
    chosen = [Backend(approach) for approach in approaches] + list(backends)
    environment.ensure_local_secrets()
    server_url = environment.ensure_database_server()
    lab_run = LabRun()
    results = lab_run.results
    total = len(scenarios) * len(chosen)
    done = 0

    def skip(scenario: Scenario, backend: Backend, reason: str) -> None:
        nonlocal done
        done += 1
        progress(f"[{done}/{total}] {scenario.name} under {backend.label}: skipped")
        progress(f"      {reason}")
        results.append(skipped_result(scenario, backend, reason))

    for backend in chosen:
        skips = {scenario.name: scenario.skip_reason(backend) for scenario in scenarios}
        if all(skips.values()):
            for scenario in scenarios:
                skip(scenario, backend, skips[scenario.name])
            continue
        info = APPROACHES[Approach(backend.approach)]
        title = info.label if backend.is_default else backend.label
        progress(f"[{title}] starting the platform...")
        started = time.monotonic()
        with running_platform(
            approach=backend.approach,
            server_url=server_url,
            prefix=LAB_PREFIX,
            # Always named, so a learner's .env cannot change the lab's rows.
            extra_env=backend.environment(),
            # Only where a scenario reads traces: spans cost every process.
            tracing=any(s.traced for s in scenarios if not skips[s.name]),
        ) as run:
            progress(
                f"[{backend.label}] platform up in {time.monotonic() - started:.1f}s"
            )
            last: ScenarioResult | None = None
            cost: PlatformCost | None = None
            for scenario in scenarios:
                if skips[scenario.name]:
                    skip(scenario, backend, skips[scenario.name])
                    continue
                if last is not None:
                    reset_between_scenarios(
                        run,
                        drained=last.measurements.drain_seconds is not None,
                        progress=progress,
                    )
                done += 1
                if scenario.moves_platform and cost is None:
                    # What this approach costs, measured before the platform
                    # moves on to another.
                    cost = measure_cost(run, backend)
                progress(f"[{done}/{total}] {scenario.name} under {backend.label}...")
                last = run_scenario_on(run, scenario, progress)
                results.append(last)
                m = last.measurements
                progress(
                    f"      orphans {m.orphan_orders}, lost {_n(m.events_lost)}, "
                    f"not yet applied {_n(m.not_yet_applied)}, duplicates "
                    f"{_n(m.duplicate_effects)}, failed {m.failed_request_count}, "
                    f"audit {m.audit} ({last.seconds:.1f}s)"
                )
            cost = cost or measure_cost(run, backend)
            lab_run.costs.append(cost)
            progress(
                f"[{backend.label}] cost: {len(cost.running.processes)} processes, "
                f"{cost.running.rss_bytes / (1024 * 1024):.0f} MiB resident, "
                f"{len(cost.running.databases)} databases, {cost.code.total} lines "
                "of code"
            )
    return lab_run


def _n(value) -> str:
    return "n/a" if value is None else str(value)

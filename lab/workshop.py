"""The guided workshop: the paper's five approaches, one step each.

Each step is plain data (``WorkshopStep``): the paper's claim in a sentence,
the experiment to run (a scenario under the step's approach, and its command
line), what to look at, the paper's prediction, and a question to think about
before the next step. ``filled_steps(report)`` puts beside each prediction
what the last lab run measured (its JSON, ``reports/latest/lab.json``),
judged by ``lab.flaws``, and ``render_workshop(report)`` writes the Markdown
of ``docs/workshop.md`` (``manage.py lab workshop``). The cockpit renders the
same steps on its workshop page.

After the five steps comes the migration, a chapter of its own
(``MIGRATION``): the journey the paper's title names, made by a running
monolith with its data (``strangle-the-monolith``, ``strangler``), measured
per move and filled the same way (``filled_migration(report)``).

What a learner should notice: every step's result is measured, never written
by hand. Where the measured result and the prediction disagree, the step
says so, and that disagreement is the most interesting thing to discuss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lab.flaws import flaw_verdict
from lab.scenarios import strangle_the_monolith as strangler
from shared_events.approaches import APPROACHES, Approach

SCENARIOS = [
    "schema-change",
    "delete-customer",
    "crash-before-publish",
    "burst",
    "strangle-the-monolith",
]
RUN_FIRST = "python manage.py lab compare " + " ".join(
    f"--scenario {scenario}" for scenario in SCENARIOS
)


@dataclass(frozen=True)
class WorkshopStep:
    approach: str
    claim: str
    scenario: str
    look_at: str
    # The paper's prediction: in words, and whether the scenario's flaw
    # (``lab.flaws``) should appear under this approach.
    prediction: str
    flaw_predicted: bool
    question: str
    # A chapter's own title; a step's is its approach's name.
    heading: str = ""

    @property
    def title(self) -> str:
        return self.heading or APPROACHES[Approach(self.approach)].label

    @property
    def command(self) -> str:
        return f"python manage.py lab run {self.scenario} --approach {self.approach}"


STEPS: list[WorkshopStep] = [
    WorkshopStep(
        approach="shared_db",
        claim=(
            "Two services sharing one database are coupled through its schema: "
            "a change one team makes to the customer table breaks the other "
            "team's order service."
        ),
        scenario="schema-change",
        look_at=(
            "the order service's failed requests after the customer table "
            "changed (the `failed` column), and the lesson line"
        ),
        prediction="the order service fails: failed requests > 0",
        flaw_predicted=True,
        question=(
            "Who would have to agree, and be deployed together, before the "
            "customer team could rename a column?"
        ),
    ),
    WorkshopStep(
        approach="db_per_service",
        claim=(
            "A database per service ends the schema coupling, but a service "
            "that only asks another over REST is never told when a customer is "
            "deleted: its orders are left orphaned."
        ),
        scenario="delete-customer",
        look_at="the orphan orders, and the auditor's verdict",
        prediction="orphan orders remain: orphans > 0",
        flaw_predicted=True,
        question=(
            "The customer service did its job. Who should have told the order "
            "service, and when?"
        ),
    ),
    WorkshopStep(
        approach="direct_publish",
        claim=(
            "Publishing an event right after the commit (a dual write) tells "
            "the order service, but a crash between the commit and the publish "
            "loses the event for good, silently."
        ),
        scenario="crash-before-publish",
        look_at="the lost events, and the orphan orders they leave",
        prediction="the event is lost: events lost > 0",
        flaw_predicted=True,
        question=(
            "How could the change and the event it announces be committed in "
            "one step, so that neither exists without the other?"
        ),
    ),
    WorkshopStep(
        approach="event_sourcing",
        claim=(
            "Storing the events and relaying them through a transactional "
            "outbox loses nothing, even in a crash; the price is eventual "
            "consistency: the order service learns of a change a little later."
        ),
        scenario="burst",
        look_at=(
            "nothing lost, and the lag from commit to applied (p50/p99), the "
            "backlog left when the burst stopped and how fast it drained; run "
            "crash-before-publish under this approach too: nothing lost there"
        ),
        prediction=(
            "nothing is lost, but the order service learns late: under a burst "
            "the lag p99 grows past a second (the bound in lab/flaws.py) while "
            "the backlog drains"
        ),
        flaw_predicted=True,
        question=(
            "Which of your screens could show a customer's change a second "
            "late, and which could not?"
        ),
    ),
    WorkshopStep(
        approach="cqrs_es",
        claim=(
            "Separate read models, fed by the events and served by their own "
            "query services, let reads scale on their own; the price is more "
            "infrastructure: more databases and processes to run."
        ),
        scenario="burst",
        look_at=(
            "the lag until the read models are updated, and the 'What CQRS "
            "costs' table: processes, memory, databases beside event_sourcing"
        ),
        prediction=(
            "nothing is lost; the read models lag behind the writes as the "
            "replica did (p99 past a second under a burst), and the platform "
            "runs more processes and databases than under event_sourcing"
        ),
        flaw_predicted=True,
        question=(
            "Which of your queries are worth a read model (and its upkeep) of "
            "their own?"
        ),
    ),
]


# The chapter after the five steps: the same platform, with its data, moved
# along the path by ``manage.py approach migrate`` while clients keep writing.
MIGRATION = WorkshopStep(
    approach="shared_db",
    heading="from the monolith to approach 5, while it runs",
    claim=(
        "Few teams start from nothing: they own a monolith that serves every "
        "day. The strangler fig moves it one step at a time while it serves: "
        "the database split, then an opening event for every record it holds, "
        "then the read side rebuilt from the events; each move with a short "
        "cut-over window, verified by the auditor before it reports success."
    ),
    scenario="strangle-the-monolith",
    look_at=(
        "each move's writes accepted, refused with 503 and for how long (the "
        "cut-over window), failed while the processes restarted, and its "
        "audit; at the end what was lost or doubled, "
        "and the orphan orders approach 2 left behind, closed by the stated "
        "policy instead of carried over"
    ),
    prediction=(
        "nothing is lost or doubled on the way; writes are refused only in "
        "the cut-over windows of the split and of the events, for seconds"
    ),
    flaw_predicted=False,
    question=(
        "Which table of your own system would you move out first, and how "
        "long a cut-over window could its users bear?"
    ),
)


@dataclass
class FilledStep:
    """A step with what the last run measured (empty when it did not run)."""

    number: int
    step: WorkshopStep
    measured: str = ""
    agrees: bool | None = None
    elsewhere: list[str] = field(default_factory=list)
    cost: str = ""


def _result(report: dict, scenario: str, approach: str) -> dict | None:
    return next(
        (
            r
            for r in report.get("results", [])
            if r["scenario"] == scenario and r["backend"] == approach
        ),
        None,
    )


def _numbers(m: dict) -> str:
    """The numbers every step shows: what was lost, failed and how late."""
    failed = sum((m.get("failed_requests") or {}).values())
    parts = [
        f"orphans {m.get('orphan_orders')}",
        f"lost {_n(m.get('events_lost'))}",
        f"failed {failed}",
    ]
    if m.get("lag_p99_ms") is not None:
        parts.append(f"lag p50/p99 {m['lag_p50_ms']:.0f}/{m['lag_p99_ms']:.0f} ms")
    if m.get("backlog_at_end"):
        drained = m.get("drain_seconds")
        parts.append(
            f"backlog {m['backlog_at_end']} drained in {drained:.1f}s"
            if drained is not None
            else f"backlog {m['backlog_at_end']} not drained in time"
        )
    return ", ".join(parts)


def _n(value) -> str:
    return "n/a" if value is None else str(value)


def _cost(report: dict, approach: str) -> str:
    cost = next((c for c in report.get("costs", []) if c["backend"] == approach), None)
    if cost is None:
        return ""
    running = cost["running"]
    return (
        f"{len(running['processes'])} processes, "
        f"{running['rss_bytes'] / 2**20:.0f} MiB resident, "
        f"{len(running['databases'])} databases, "
        f"{cost['code_lines']['total']} lines of code"
    )


def _elsewhere(report: dict, step: WorkshopStep) -> list[str]:
    """The step's scenario under each other approach: "shared_db: no flaw: 0 ..."."""
    verdicts = []
    for other in STEPS:
        result = _result(report, step.scenario, other.approach)
        if other.approach == step.approach or result is None:
            continue
        if result.get("measurements") is not None:
            verdict = flaw_verdict(step.scenario, result["measurements"])
            verdicts.append(f"{other.approach}: {verdict.text}")
    return verdicts


def migration_numbers(m: dict) -> str:
    """The migration's numbers: each move's answers and audit, then the end."""
    figures = m.get("figures") or {}
    parts = []
    for target in strangler.STEPS:
        move = figures.get(target)
        if move is None:
            continue
        audit = (
            "audited equal" if move.get(strangler.AUDIT) else "audit found copies apart"
        )
        parts.append(
            f"to {target} in {move.get(strangler.SECONDS)} s: "
            f"{move.get(strangler.ACCEPTED)} writes accepted, "
            f"{move.get(strangler.REFUSED)} refused (longest "
            f"{move.get(strangler.LONGEST_REFUSED)} s), "
            f"{move.get(strangler.FAILED)} failed otherwise, {audit}"
        )
    end = figures.get(strangler.END, {})
    if strangler.ORPHANS_CLOSED in end:
        parts.append(f"{end[strangler.ORPHANS_CLOSED]} orphan orders closed")
    if end.get(strangler.DEAD_LETTERED):
        parts.append(f"{end[strangler.DEAD_LETTERED]} events dead-lettered")
    return "; ".join(parts)


def _filled(number: int, step: WorkshopStep, report: dict | None) -> FilledStep:
    item = FilledStep(number=number, step=step)
    result = _result(report or {}, step.scenario, step.approach)
    if result is None or result.get("measurements") is None:
        return item
    measurements = result["measurements"]
    verdict = flaw_verdict(step.scenario, measurements)
    if verdict.appeared is not None:
        item.agrees = verdict.appeared == step.flaw_predicted
    if step is MIGRATION:
        item.measured = f"{verdict.text} ({migration_numbers(measurements)})"
        return item
    item.measured = f"{verdict.text} ({_numbers(measurements)})"
    item.elsewhere = _elsewhere(report, step)
    item.cost = _cost(report, step.approach)
    return item


def filled_steps(report: dict | None) -> list[FilledStep]:
    """The steps, each with the last run's result for its scenario and
    approach, that result's verdict against the prediction, the same
    scenario's verdict under the other approaches, and the approach's cost."""
    return [_filled(number, step, report) for number, step in enumerate(STEPS, start=1)]


def filled_migration(report: dict | None) -> FilledStep:
    """The migration chapter with the last run's result: the verdict (nothing
    lost or doubled) and each move's numbers."""
    return _filled(len(STEPS) + 1, MIGRATION, report)


def covers_every_step(report: dict | None) -> bool:
    """Whether ``report`` measured every step's scenario under its approach,
    and the migration (then ``docs/workshop.md`` can be written from it
    whole)."""
    filled = [*filled_steps(report), filled_migration(report)]
    return all(item.measured for item in filled)


VERDICTS = {
    True: "as predicted",
    False: "NOT as predicted: discuss why",
    None: "not applicable",
}


def _section(item: FilledStep, report: dict | None, *, ask: str) -> list[str]:
    step = item.step
    out = [
        f"**The paper's claim.** {step.claim}",
        "",
        f"**Run.** `{step.command}`",
        "",
        f"**Look at** {step.look_at}.",
        "",
        f"**Predicted:** {step.prediction}.",
        "",
    ]
    if item.measured:
        out += [f"**Measured:** {item.measured}: {VERDICTS[item.agrees]}.", ""]
        if item.elsewhere:
            out += [
                f"The same scenario under the other approaches: "
                f"{'; '.join(item.elsewhere)}.",
                "",
            ]
        if item.cost:
            out += [f"**What this approach costs to run:** {item.cost}.", ""]
    elif report is not None:
        out += [f"**Measured:** not in the last run; run `{step.command}`.", ""]
    return [*out, f"**{ask}:** {step.question}", ""]


def render_workshop(report: dict | None) -> str:
    """``docs/workshop.md``: the steps and the migration, filled from
    ``report`` (the last run's JSON); without a run, the command to run
    first."""
    out = [
        "# The workshop: five approaches, one flaw at a time",
        "",
        "Generated by `python manage.py lab workshop` from the last lab run; do "
        'not edit by hand. Each step follows the paper ("Microservices with '
        'CQRS and Event Sourcing on AWS"): its claim, an experiment to run, '
        "what to look at, the prediction beside what was measured, and a "
        "question for before the next step. After the five steps, the "
        "migration: the same path walked by a running monolith with its data.",
        "",
    ]
    if report is None:
        out += [
            "No lab run yet. Run this first, then `python manage.py lab workshop`:",
            "",
            f"    {RUN_FIRST}",
            "",
        ]
    else:
        out += [
            f"Measured in the run of {report.get('generated_at', '?')} "
            f"({report.get('title', '')}).",
            "",
        ]
    for item in filled_steps(report):
        out += [f"## Step {item.number}: {item.step.title}", ""]
        out += _section(item, report, ask="Before the next step")
    migration = filled_migration(report)
    out += [f"## The migration: {migration.step.title}", ""]
    out += _section(migration, report, ask="To take away")
    return "\n".join(out).rstrip() + "\n"

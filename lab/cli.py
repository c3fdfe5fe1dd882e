"""``manage.py lab``: list the scenarios, run one, or compare approaches and backends.

A row is an approach on a backend: by default SNS fanning out to SQS and,
under approaches 4 and 5, PostgreSQL's event store. ``--backend
APPROACH:DELIVERY:STORE`` (repeatable) adds one of the paper's AWS pictures,
e.g. ``cqrs_es:kinesis:dynamodb``; ``--delivery``/``--store`` run the chosen
approaches on those backends instead. ``lab workshop`` writes the guided
workshop (``docs/workshop.md``) from the last run's JSON report.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from lab.backends import STORES, Backend, BackendError, applies_to
from lab.reports import (
    read_latest_report,
    render_costs_table,
    render_table,
    write_reports,
)
from lab.runner import run_lab
from lab.scenarios import DEMO_SCENARIOS, SCENARIOS
from lab.workshop import RUN_FIRST, covers_every_step, render_workshop
from shared_events.approaches import APPROACHES, Approach
from shared_events.configuration import REPO_DIR
from shared_events.transport.topology import DELIVERIES
from stack import environment

ALL_APPROACHES = [approach.value for approach in Approach]
WORKSHOP_FILE = REPO_DIR / "docs" / "workshop.md"


def _add_backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        action="append",
        metavar="APPROACH:DELIVERY:STORE",
        help="an approach on other backends (repeatable), e.g. "
        "cqrs_es:kinesis:dynamodb; DELIVERY is one of "
        f"{', '.join(DELIVERIES)}, STORE one of {', '.join(STORES)}",
    )
    parser.add_argument(
        "--delivery",
        choices=DELIVERIES,
        help="run the chosen approaches with this EVENT_DELIVERY (approaches 3 "
        "to 5; without --approach, every approach it applies to)",
    )
    parser.add_argument(
        "--store",
        choices=STORES,
        help="run the chosen approaches with this EVENT_STORE (approaches 4 and "
        "5; without --approach, every approach it applies to)",
    )


def add_lab_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="list the scenarios")
    run = actions.add_parser(
        "run", help="run one scenario under one approach (or backend)"
    )
    run.add_argument("scenario", choices=sorted(SCENARIOS), help="the scenario")
    run.add_argument(
        "--approach",
        action="append",
        choices=ALL_APPROACHES,
        help="the approach to run it under (or give --backend)",
    )
    _add_backend_options(run)
    compare = actions.add_parser(
        "compare", help="run scenarios under every approach, side by side"
    )
    compare.add_argument(
        "--scenario",
        action="append",
        choices=sorted(SCENARIOS),
        help="a scenario to include (repeatable; default: the demo set "
        f"{', '.join(DEMO_SCENARIOS)})",
    )
    compare.add_argument("--all", action="store_true", help="include every scenario")
    compare.add_argument(
        "--approach",
        action="append",
        choices=ALL_APPROACHES,
        help="an approach to include (repeatable; default: all five, unless "
        "--backend names what to run)",
    )
    _add_backend_options(compare)
    workshop = actions.add_parser(
        "workshop",
        help="write the guided workshop (docs/workshop.md) from the last lab run",
    )
    workshop.add_argument(
        "--output",
        default=str(WORKSHOP_FILE),
        help=f"where to write it (default: {WORKSHOP_FILE.relative_to(REPO_DIR)})",
    )


def command_workshop(options: argparse.Namespace) -> int:
    """Write the workshop from reports/latest; without a run, say what to run."""
    report = read_latest_report()
    if report is None:
        print("No lab run yet (reports/latest/lab.json is missing). Run first:")
        print(f"  {RUN_FIRST}")
        print("then 'python manage.py lab workshop' again.")
        return 1
    output = Path(options.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_workshop(report))
    print(f"Workshop written from the run of {report.get('generated_at')}: {output}")
    return 0


def chosen_rows(options: argparse.Namespace) -> tuple[list[str], list[Backend]]:
    """(approaches on the default backends, backends) the options ask for.

    Raises ``BackendError`` for a combination that cannot run.
    """
    named = [Backend.parse(text) for text in getattr(options, "backend", None) or []]
    approaches = list(options.approach or [])
    delivery = getattr(options, "delivery", None)
    store = getattr(options, "store", None)
    if delivery is None and store is None:
        if not approaches and not named:
            approaches = list(ALL_APPROACHES)
        return approaches, named
    delivery, store = delivery or "sns", store or "postgres"
    if approaches:
        return [], [Backend(a, delivery, store) for a in approaches] + named
    fitting = [
        a for a in ALL_APPROACHES if applies_to(a, delivery=delivery, store=store)
    ]
    return [], [Backend(a, delivery, store) for a in fitting] + named


def command_lab(options: argparse.Namespace) -> int:
    """Raises ``BackendError`` for options naming a backend that cannot run."""
    if options.action == "list":
        for name, scenario in SCENARIOS.items():
            marker = "*" if name in DEMO_SCENARIOS else " "
            print(f" {marker} {name:<22} {scenario.title}")
        print("\n* in the demo (make demo = lab compare over these)")
        return 0
    if options.action == "workshop":
        return command_workshop(options)
    approaches, backends = chosen_rows(options)
    if options.action == "run":
        scenarios = [options.scenario]
        if len(approaches) + len(backends) != 1:
            raise BackendError(
                "lab run takes one approach (--approach) or one backend (--backend)"
            )
    elif options.all:
        scenarios = list(SCENARIOS)
    else:
        scenarios = options.scenario or list(DEMO_SCENARIOS)
    started = time.monotonic()
    with environment.embedded_database_stopped_after():
        lab_run = run_lab(scenarios=scenarios, approaches=approaches, backends=backends)
    title = "Microservices lab: " + ", ".join(scenarios)
    print()
    print(render_table(lab_run.results))
    if lab_run.costs:
        print()
        print(render_costs_table(lab_run.costs))
    paths = write_reports(lab_run.results, title=title, costs=lab_run.costs)
    print()
    print(f"Finished in {time.monotonic() - started:.0f}s. Reports:")
    for kind, path in paths.items():
        print(f"  {kind:<8} {path}")
    # The guide for instructors is never staler than the last run that
    # measured every one of its steps (make demo does).
    report = read_latest_report()
    if covers_every_step(report):
        WORKSHOP_FILE.write_text(render_workshop(report))
        print(f"  workshop {WORKSHOP_FILE} (every step measured by this run)")
    labels = [APPROACHES[Approach(a)].label for a in approaches]
    labels += [backend.label for backend in backends]
    print(f"Approaches: {', '.join(labels)}")
    return 0

"""``manage.py lab``: list the scenarios, run one, or compare every approach."""

from __future__ import annotations

import argparse
import time

from lab.reports import render_table, write_reports
from lab.runner import run_lab
from lab.scenarios import DEMO_SCENARIOS, SCENARIOS
from shared_events.approaches import APPROACHES, Approach

ALL_APPROACHES = [approach.value for approach in Approach]


def add_lab_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="list the scenarios")
    run = actions.add_parser("run", help="run one scenario under one approach")
    run.add_argument("scenario", choices=sorted(SCENARIOS), help="the scenario")
    run.add_argument(
        "--approach",
        required=True,
        choices=ALL_APPROACHES,
        help="the approach to run it under",
    )
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
        help="an approach to include (repeatable; default: all five)",
    )


def command_lab(options: argparse.Namespace) -> int:
    if options.action == "list":
        for name, scenario in SCENARIOS.items():
            marker = "*" if name in DEMO_SCENARIOS else " "
            print(f" {marker} {name:<22} {scenario.title}")
        print("\n* in the demo (make demo = lab compare over these)")
        return 0
    if options.action == "run":
        scenarios, approaches = [options.scenario], [options.approach]
    else:
        if options.all:
            scenarios = list(SCENARIOS)
        else:
            scenarios = options.scenario or list(DEMO_SCENARIOS)
        approaches = options.approach or ALL_APPROACHES
    started = time.monotonic()
    results = run_lab(scenarios=scenarios, approaches=approaches)
    title = "Microservices lab: " + ", ".join(scenarios)
    print()
    print(render_table(results))
    paths = write_reports(results, title=title)
    print()
    print(f"Finished in {time.monotonic() - started:.0f}s. Reports:")
    for kind, path in paths.items():
        print(f"  {kind:<8} {path}")
    labels = ", ".join(APPROACHES[Approach(a)].label for a in approaches)
    print(f"Approaches: {labels}")
    return 0

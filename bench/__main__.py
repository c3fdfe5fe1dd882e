"""``python -m bench``: run the whole suite, print the table, write the JSON.

``--quick`` runs fewer and smaller repetitions (a minute or so); the full run
aims at about five minutes on a two-core machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from bench import end_to_end, observability
from bench.environment import ROOT, machine, prepare, run_figure
from bench.report import summarise, table, write_json

FULL = {
    "write": {"runs": 5, "commands": 300, "writers": [1, 8]},
    "relay": {"runs": 5, "broker_batches": 3, "database_events": 1000},
    # The rebuild command replays rebuild_events: at 500 its fixed cost (two
    # connections, the shadow tables, the switch) is as long as the whole
    # baseline; docs/benchmarks.md gives both.
    "rebuild": {
        "runs": 3,
        "events": 500,
        "rebuild_events": 5000,
        "growth": [10_000, 100_000],
    },
    "growth": {"runs": 3, "batches": 10, "histories": [10_000, 100_000, 1_000_000]},
    "eventstore": {"runs": 5, "events": 500, "writers": [1, 8]},
    "endtoend": {"rates": [20, 50], "seconds": 60, "baseline_seconds": 20},
    "kinesis": {"runs": 5, "batches": 10},
    "dynamodb": {"runs": 5, "commits": 200},
    "backends": {
        "rate": 20,
        "seconds": 60,
        "baseline_seconds": 20,
        "backends": list(end_to_end.BACKENDS),
    },
    "observability": {"runs": 3, "commands": 400},
}
QUICK = {
    "write": {"runs": 3, "commands": 100, "writers": [1, 8]},
    "relay": {"runs": 3, "broker_batches": 2, "database_events": 500},
    "rebuild": {"runs": 3, "events": 200, "growth": [1000, 10_000]},
    "growth": {"runs": 3, "batches": 5, "histories": [10_000, 100_000]},
    "eventstore": {"runs": 3, "events": 200, "writers": [1, 8]},
    "endtoend": {"rates": [20], "seconds": 20, "baseline_seconds": 10},
    "kinesis": {"runs": 3, "batches": 2},
    "dynamodb": {"runs": 3, "commits": 100},
    "backends": {
        "rate": 20,
        "seconds": 20,
        "baseline_seconds": 10,
        "backends": list(end_to_end.BACKENDS),
    },
    "observability": {"runs": 2, "commands": 200},
}
APPROACH = {
    "write": "event_sourcing",
    "relay": "event_sourcing",
    "growth": "event_sourcing",
    "rebuild": "cqrs_es",
    "eventstore": "event_sourcing",
    "endtoend": "cqrs_es",
    "kinesis": "event_sourcing",
    "dynamodb": "event_sourcing",
    "backends": "cqrs_es",
    "observability": "cqrs_es",
}
# Figure 5 compares with the eventsourcing library, installed for the benchmark
# only, in a throwaway venv (never in the project's dependencies).
LIBRARY_VENV = ROOT / "var" / "bench-eventsourcing"
LIBRARY_REQUIREMENT = "eventsourcing[postgres]==9.5.6"


def _library_venv(log) -> bool:
    python = LIBRARY_VENV / "bin" / "python"
    if python.exists():
        return True
    log(f"installing {LIBRARY_REQUIREMENT} into {LIBRARY_VENV}")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(LIBRARY_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", LIBRARY_REQUIREMENT],
            check=True,
        )
    except subprocess.CalledProcessError as error:
        log(f"figure 5 skipped: could not install the library ({error})")
        return False
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run")
    parser.add_argument(
        "--only",
        choices=sorted(APPROACH),
        action="append",
        help="run only this figure (repeatable)",
    )
    parser.add_argument(
        "--profile",
        choices=["write", "rebuild"],
        help="instead of the suite, profile one slow path with cProfile",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "reports" / "bench",
        help="directory of the JSON report (default reports/bench)",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    figures = args.only or list(plan)

    def log(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    started = time.monotonic()
    bench = prepare(log=log)
    if args.profile:
        try:
            run_figure(
                bench,
                figure="profile",
                approach=APPROACH[args.profile],
                options={"target": args.profile, "count": 300},
            )
        finally:
            bench.moto.stop()
        return 0
    try:
        about = machine(bench)
        rows = []
        for figure in figures:
            options = dict(plan[figure])
            if figure == "rebuild":
                options["peer_url"] = bench.peer_url
            if figure == "eventstore":
                if not _library_venv(log):
                    continue
                options["url"] = bench.write_url
            log(f"figure {figure} {plan[figure]}")
            figure_started = time.monotonic()
            if figure == "endtoend":
                # A whole platform of processes, run from here (bench.end_to_end).
                rows += end_to_end.run(bench, **options, log=log)
            elif figure == "observability":
                # Three platforms: tracing off, every request, one in ten.
                rows += observability.run(bench, **options, log=log)
            elif figure == "backends":
                # One platform per backend combination (bench.end_to_end).
                rows += end_to_end.run_backends(bench, **options, log=log)
            else:
                rows += run_figure(
                    bench, figure=figure, approach=APPROACH[figure], options=options
                )
            log(f"figure {figure} took {time.monotonic() - figure_started:.0f}s")
    finally:
        bench.moto.stop()
    summaries = [summarise(row) for row in rows]
    about["duration_seconds"] = round(time.monotonic() - started)
    path = write_json(
        directory=args.out,
        machine=about,
        options={"quick": args.quick, "plan": {f: plan[f] for f in figures}},
        summaries=summaries,
    )
    print(
        f"cpu_count={about['cpu_count']} moto={about['moto']} "
        f"python={about['python']}\n{about['postgresql']}\n"
    )
    print(table(summaries))
    print(f"\nwritten to {path} ({about['duration_seconds']}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

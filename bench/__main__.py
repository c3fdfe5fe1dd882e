"""``python -m bench``: run the whole suite, print the table, write the JSON.

``--quick`` runs fewer and smaller repetitions: about half an hour on a
two-core machine, most of it figure 11 climbing five platforms and their
brokers in 10 s steps; the full run's 25 s steps take well over an hour.

Each figure's row says how busy the machine was with other work while it ran
(the "machine" column), and the verdicts at the end compare every ratio with
bench/baseline.json: ``--accept`` takes a run's JSON as the new baseline.
Interrupted (Ctrl-C, SIGTERM, ``--timeout``) or failed, a run stops its
figures and platforms, drops its databases and stops its moto server before
it exits (130 when interrupted, 124 when out of time).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench import end_to_end, knee, observability
from bench.baseline import (
    BASELINE_PATH,
    accept,
    load_baseline,
    verdicts,
    with_regressions,
)
from bench.environment import ROOT, BenchEnvironment, machine, prepare, run_figure
from bench.noise import measure_noise
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
    "knee": {
        "rates": [5, 10, 15, *range(20, 110, 10), 120, 140, 160, 200, 250],
        "step_seconds": 25,
        "drain_seconds": 60,
        "bursts": [1000, 5000],
        "subjects": list(knee.EVERY_SUBJECT),
    },
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
    "knee": {
        "rates": [5, 10, 15, 20, 30, 40, 60, 80, 100, 150, 200],
        "step_seconds": 10,
        "drain_seconds": 30,
        "bursts": [500],
        "subjects": list(knee.EVERY_SUBJECT),
    },
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
    "knee": "cqrs_es",
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


class RunTimedOut(KeyboardInterrupt):
    """``--timeout`` ran out: the run ends as if interrupted.

    A KeyboardInterrupt, so that no ``except Exception`` in a figure holds it.
    """


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
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="interrupt the run after SECONDS, tearing everything down (exit 124)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=BASELINE_PATH,
        help="the accepted ratios to compare with, or to write with --accept "
        "(default bench/baseline.json)",
    )
    parser.add_argument(
        "--accept",
        nargs="?",
        type=Path,
        const=ROOT / "reports" / "bench" / "latest.json",
        metavar="REPORT",
        help="run nothing: take a run's JSON (default reports/bench/latest.json) "
        "as the new baseline; its rows replace those of the same figure and "
        "subject, the others are kept",
    )
    parser.add_argument(
        "--accept-busy",
        action="store_true",
        help="with --accept: take rows measured on a busy machine too (left "
        "out by default, their accepted entries kept)",
    )
    args = parser.parse_args(argv)
    if args.accept_busy and args.accept is None:
        parser.error("--accept-busy goes with --accept")
    if args.accept is not None:
        accepted, busy = accept(
            args.accept, path=args.baseline, include_busy=args.accept_busy
        )
        print(f"{len(accepted)} rows of {args.accept} accepted into {args.baseline}")
        if busy:
            taken = "taken anyway" if args.accept_busy else "left out (--accept-busy)"
            print(f"{len(busy)} rows were measured on a busy machine, {taken}:")
            print("\n".join(f"  {key}" for key in busy))
        return 0

    def log(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    _interrupt_on(signal.SIGINT, signal.SIGTERM)
    if args.timeout:
        signal.signal(signal.SIGALRM, _timed_out)
        signal.setitimer(signal.ITIMER_REAL, args.timeout)
    try:
        return _run(args, log=log)
    except RunTimedOut:
        log(f"timed out after {args.timeout:g}s; the run was stopped and removed")
        return 124
    except KeyboardInterrupt:
        log("interrupted; the run was stopped and removed")
        return 130


def _interrupt_on(*signals: signal.Signals) -> None:
    """SIGINT and SIGTERM end the run as Ctrl-C does, with everything torn down
    (Python's default for SIGTERM would end it at once, leaving the platforms,
    the moto server and the databases behind). A second signal does not cut
    the teardown short."""

    def interrupted(signum, frame) -> None:
        for number in signals:
            signal.signal(number, _already_stopping)
        raise KeyboardInterrupt(f"signal {signum}")

    for number in signals:
        signal.signal(number, interrupted)


def _already_stopping(signum, frame) -> None:
    print("bench: already stopping, please wait", file=sys.stderr, flush=True)


def _timed_out(signum, frame) -> None:
    signal.signal(signal.SIGINT, _already_stopping)
    signal.signal(signal.SIGTERM, _already_stopping)
    raise RunTimedOut


def _run(args: argparse.Namespace, *, log) -> int:
    plan = QUICK if args.quick else FULL
    figures = args.only or list(plan)
    started = time.monotonic()
    bench = prepare(log=log)
    try:
        if args.profile:
            run_figure(
                bench,
                figure="profile",
                approach=APPROACH[args.profile],
                options={"target": args.profile, "count": 300},
            )
            return 0
        about = machine(bench)
        rows = []
        for figure in figures:
            rows += _figure(bench, figure, plan[figure], log=log)
    finally:
        # No timeout may cut the teardown short.
        signal.setitimer(signal.ITIMER_REAL, 0)
        bench.teardown(log=log)
    summaries = with_regressions(
        [summarise(row) for row in rows], load_baseline(args.baseline)
    )
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
    print(f"\nverdicts (baseline {args.baseline}):\n{verdicts(summaries)}")
    print(f"\nwritten to {path} ({about['duration_seconds']}s)")
    return 0


def _figure(bench: BenchEnvironment, figure: str, planned: dict, *, log) -> list:
    """One figure's rows, each with how busy the machine was meanwhile."""
    options = dict(planned)
    if figure == "rebuild":
        options["peer_url"] = bench.peer_url
    if figure == "eventstore":
        if not _library_venv(log):
            return []
        options["url"] = bench.write_url
    log(f"figure {figure} {planned}")
    figure_started = time.monotonic()
    with measure_noise(database_prefix=bench.run_prefix) as noise:
        if figure == "endtoend":
            # A whole platform of processes, run from here (bench.end_to_end).
            rows = end_to_end.run(bench, **options, log=log)
        elif figure == "observability":
            # Three platforms: tracing off, every request, one in ten.
            rows = observability.run(bench, **options, log=log)
        elif figure == "backends":
            # One platform per backend combination (bench.end_to_end).
            rows = end_to_end.run_backends(bench, **options, log=log)
        elif figure == "knee":
            # Two platforms, then the broker alone (bench.knee).
            rows = knee.run(
                bench, **options, log=log, prefix=bench.platform_prefix("knee")
            )
        else:
            rows = run_figure(
                bench, figure=figure, approach=APPROACH[figure], options=options
            )
    measured = noise[0]
    log(
        f"figure {figure} took {time.monotonic() - figure_started:.0f}s, "
        f"machine {measured.describe()} "
        f"(others {measured.others_cpu_seconds:.1f} CPU s, "
        f"load {measured.load_start:.1f} -> {measured.load_end:.1f})"
    )
    return [{**row, "machine": measured.as_dict()} for row in rows]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

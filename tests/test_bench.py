"""The benchmark's hygiene: per-run names, teardown when interrupted, the
machine's noise made visible, and the regression guard against the baseline.

The interruption tests run the real ``python -m bench`` on the real
PostgreSQL server and stop it with a real signal.
"""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from bench.baseline import accept, compare, row_key, verdicts, with_regressions
from bench.environment import BenchEnvironment, new_run_prefix
from bench.noise import MachineNoise, NoiseMeter
from bench.report import Figure, summarise, table
from shared_events.configuration import REPO_DIR, all_database_names
from stack.connections import fetch_rows
from stack.moto_server import MotoServer
from stack.span_receiver import TELEMETRY_DATABASE

pytestmark = pytest.mark.slow

# Generous: the machine is shared, and preparing runs three migrations.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


# PER-RUN NAMES
# ------------------------------------------------------------------------------


def _names(bench: BenchEnvironment) -> set[str]:
    names = {bench.write_database, bench.read_database, bench.peer_database}
    for platform in ("e2e", "aws", "obs"):
        prefix = bench.platform_prefix(platform)
        names |= {*all_database_names(prefix), prefix + TELEMETRY_DATABASE}
    return names


def test_two_runs_share_no_database_and_no_topology_name():
    first, second = (
        BenchEnvironment(server_url="postgres://unused", run_prefix=new_run_prefix())
        for _ in range(2)
    )

    assert first.run_prefix != second.run_prefix
    assert not _names(first) & _names(second)
    # Teardown drops by prefix: neither run's prefix may cover the other's.
    assert all(name.startswith(first.run_prefix) for name in _names(first))
    assert not any(name.startswith(first.run_prefix) for name in _names(second))
    assert not second.topology_prefix.startswith(first.topology_prefix)
    assert not first.topology_prefix.startswith(second.topology_prefix)


def test_figure_subprocesses_get_the_run_and_its_topology_prefix():
    bench = BenchEnvironment(
        server_url="postgres://unused",
        run_prefix="bench_0a1b2c_",
        moto=MotoServer(port=1, pid=0, log_path=Path("unused.log")),
    )

    env = bench.django_env("event_sourcing")

    assert env["BENCH_RUN_PREFIX"] == "bench_0a1b2c_"
    assert env["EVENT_TOPOLOGY_PREFIX"] == "bench-0a1b2c-"
    assert env["CUSTOMER_DATABASE_URL"].endswith("/bench_0a1b2c_customer")


# TEARDOWN ON INTERRUPTION
# ------------------------------------------------------------------------------


class _Bench:
    """``python -m bench --quick --only write`` with its log read line by line."""

    def __init__(self, out: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench", "--quick", "--only", "write"]
            + ["--out", str(out), "--baseline", str(out / "baseline.json")],
            cwd=REPO_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for(self, pattern: str) -> re.Match:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                assert self.process.poll() is None, "".join(self.log)
                continue
            self.log.append(line)
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"no {pattern!r} in time:\n{''.join(self.log)}")

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _databases(server_url: str, prefix: str) -> list[str]:
    rows = fetch_rows(f"{server_url}/postgres", "SELECT datname FROM pg_database")
    return [name for (name,) in rows if name.startswith(prefix)]


@pytest.mark.parametrize(
    ("signum", "when"),
    [
        # Ctrl-C while the figure's worker runs: the worker must be stopped.
        (signal.SIGINT, r"figure write"),
        # SIGTERM (``timeout``) while the run is still being prepared.
        (signal.SIGTERM, r"moto server on"),
    ],
    ids=["sigint-during-figure", "sigterm-during-prepare"],
)
def test_an_interrupted_run_leaves_nothing_behind(server_url, tmp_path, signum, when):
    bench = _Bench(tmp_path)
    prefix = bench.wait_for(r"run (bench_[0-9a-f]{6}_)").group(1)
    bench.wait_for(when)
    assert _databases(server_url, prefix)
    if signum == signal.SIGINT:
        deadline = time.monotonic() + START_TIMEOUT
        while not any(
            "bench.worker" in " ".join(p.cmdline()) for p in bench.descendants()
        ):
            assert time.monotonic() < deadline, "the figure's worker never started"
            time.sleep(0.1)
    started = bench.descendants()
    assert any("moto.server" in " ".join(p.cmdline()) for p in started)

    bench.process.send_signal(signum)
    returncode = bench.process.wait(timeout=STOP_TIMEOUT)

    assert returncode == 130
    assert [p for p in started if _alive(p)] == []
    assert _databases(server_url, prefix) == []
    bench.reader.join(timeout=5)
    bench.log += list(bench.lines.queue)
    assert "bench: interrupted" in "".join(bench.log)


# NOISE
# ------------------------------------------------------------------------------

BURN = (
    "import sys, time\n"
    "started = time.process_time()\n"
    "while time.process_time() - started < 1.0: pass\n"
    "open(sys.argv[1], 'w').write(str(time.process_time()))\n"
)


def _burned(path: Path) -> float:
    deadline = time.monotonic() + 30
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, "the burner never finished"
        time.sleep(0.05)
    return float(path.read_text())


def test_a_burn_outside_the_run_counts_as_others_and_flags_the_figure(tmp_path):
    done = tmp_path / "burned"
    meter = NoiseMeter()
    meter.start()
    # The shell exits at once: the burner is adopted outside this process tree.
    subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -c "$0" "$1" &', BURN, str(done)],
        check=True,
    )
    burned = _burned(done)
    noise = meter.stop()

    assert noise.others_cpu_seconds >= 0.8 * burned
    assert noise.own_cpu_seconds < 0.5 * burned
    assert noise.busy
    assert noise.describe().startswith("BUSY: others ")


def test_the_same_burn_inside_the_run_counts_as_its_own(tmp_path):
    done = tmp_path / "burned"
    meter = NoiseMeter()
    meter.start()
    subprocess.run([sys.executable, "-c", BURN, str(done)], check=True)
    burned = _burned(done)
    noise = meter.stop()

    # Counted once: its own reading and its parent's cutime do not add up.
    assert 0.8 * burned <= noise.own_cpu_seconds <= burned + 0.5
    assert noise.others_cpu_seconds <= noise.machine_cpu_seconds - 0.8 * burned


# REGRESSION GUARD
# ------------------------------------------------------------------------------

THROUGHPUT = Figure("1 write path", unit="commands/s")
LATENCY = Figure("6 end to end", unit="ms")


def _row(figure=THROUGHPUT, *, ratios, target=None, subject="subject"):
    # Baseline runs of 100: each run's ratio is its subject / 100.
    return summarise(
        figure.row(
            subject=(subject, [r * 100 for r in ratios]),
            baseline=("raw", [100.0] * len(ratios)),
            target=target,
        )
    )


def _accepted(summary: dict) -> dict:
    return {key: summary[key] for key in ("ratio_median", "ratio_spread", "runs")}


def test_a_throughput_that_fell_by_more_than_the_spread_regressed():
    was = _accepted(_row(ratios=[0.75, 0.80, 0.85]))  # spread 0.10

    assert compare(_row(ratios=[0.60, 0.65, 0.68]), was)["status"] == "REGRESSED"
    assert compare(_row(ratios=[0.70, 0.72, 0.74]), was)["status"] == "ok"
    assert compare(_row(ratios=[0.95, 0.96, 0.97]), was)["status"] == "improved"


def test_the_larger_spread_of_the_two_runs_is_the_allowance():
    was = _accepted(_row(ratios=[0.79, 0.80, 0.81]))  # spread 0.02
    noisy = _row(ratios=[0.40, 0.65, 0.90])  # spread 0.50

    assert compare(noisy, was)["status"] == "ok"


def test_a_latency_regresses_when_it_rises():
    target = ("subject_le", 500.0)
    was = _accepted(_row(LATENCY, ratios=[1.0, 1.1, 1.2], target=target))

    rose = _row(LATENCY, ratios=[1.5, 1.6, 1.7], target=target)
    fell = _row(LATENCY, ratios=[0.5, 0.6, 0.7], target=target)
    assert compare(rose, was)["status"] == "REGRESSED"
    assert compare(fell, was)["status"] == "improved"


def test_one_run_or_no_baseline_is_shown_never_flagged():
    was = _accepted(_row(LATENCY, ratios=[1.0]))

    assert compare(_row(LATENCY, ratios=[9.0]), was)["status"] == "one run"
    assert compare(_row(ratios=[0.1, 0.2]), None)["status"] == "no baseline"


def test_accept_merges_a_report_and_a_run_is_judged_against_it(tmp_path):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"rows": {"9 other | kept": {"runs": 1}}}))
    accepted = _row(ratios=[0.75, 0.80, 0.85], subject="1 writer")
    accepted["machine"] = {"busy": True, "verdict": "BUSY: others 0.4 cores"}
    report = tmp_path / "run.json"
    report.write_text(
        json.dumps({"created_at": "20260101T000000Z", "figures": [accepted]})
    )

    # Measured on a busy machine: left out unless asked for.
    keys, busy = accept(report, path=baseline)
    assert (keys, busy) == ([], [row_key(accepted)])
    assert set(json.loads(baseline.read_text())["rows"]) == {"9 other | kept"}

    keys, busy = accept(report, path=baseline, include_busy=True)
    rows = json.loads(baseline.read_text())["rows"]

    assert keys == busy == [row_key(accepted)]
    assert set(rows) == {"9 other | kept", row_key(accepted)}
    later = with_regressions([_row(ratios=[0.5, 0.55, 0.6], subject="1 writer")], rows)
    assert later[0]["regression"]["status"] == "REGRESSED"
    assert "1 regressed" in verdicts(later)


def test_the_table_and_the_verdicts_show_the_machine():
    summary = _row(ratios=[0.8, 0.9], target=("ge", 0.5))
    summary["machine"] = {"busy": True, "verdict": "BUSY: others 0.4 cores, load 2.1"}
    summary["regression"] = compare(summary, None)

    assert "BUSY: others 0.4 cores, load 2.1 |" in table([summary])
    assert "machine: BUSY: others 0.4 cores" in verdicts([summary])
    assert "target ge 0.5: met" in verdicts([summary])


def test_the_database_servers_background_work_is_neither_ours_nor_others():
    # Ten busy seconds: six the run's, three PostgreSQL's checkpointer and WAL
    # writer flushing the run's writes, one someone else's.
    noise = MachineNoise(
        seconds=10.0,
        cpu_count=2,
        load_start=0.5,
        load_end=0.6,
        machine_cpu_seconds=10.0,
        own_cpu_seconds=6.0,
        server_cpu_seconds=3.0,
    )

    assert noise.others_cpu_seconds == pytest.approx(1.0)
    assert not noise.busy
    assert noise.as_dict()["server_cpu_seconds"] == 3.0

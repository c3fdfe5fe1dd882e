"""``make test`` fails a run that left the local AWS daemon or processes
running, and counts each step's CPU."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stack import environment, test_suite
from stack.moto_server import daemon_pid, ensure_moto_daemon, stop_moto_daemon


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setattr(environment, "MOTO_STATE_DIR", tmp_path)
    yield tmp_path
    stop_moto_daemon(state_dir=tmp_path)


def test_a_daemon_started_during_the_run_is_stopped_and_fails_it(state_dir, capsys):
    ensure_moto_daemon(state_dir=state_dir)

    assert test_suite._stop_daemon_started_since(None) is True
    assert daemon_pid(state_dir=state_dir) is None
    assert "left it running" in capsys.readouterr().out


def test_a_daemon_that_ran_before_the_run_is_left_alone(state_dir):
    ensure_moto_daemon(state_dir=state_dir)
    before = daemon_pid(state_dir=state_dir)

    assert test_suite._stop_daemon_started_since(before) is False
    assert daemon_pid(state_dir=state_dir) == before


def test_a_process_of_the_checkout_left_running_is_killed_and_fails_the_run(tmp_path):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    script = checkout / "worker.py"
    script.write_text("import time\ntime.sleep(60)\n")
    left = subprocess.Popen([sys.executable, str(script)])
    try:
        assert [pid for pid, _ in test_suite.processes_of(checkout)] == [left.pid]

        assert test_suite._kill_processes_left(checkout) is True
        assert left.wait(timeout=10) == -signal.SIGKILL
        assert test_suite.processes_of(checkout) == []
        assert test_suite._kill_processes_left(checkout) is False
    finally:
        left.kill()
        left.wait()


def test_this_process_and_its_ancestors_are_never_counted():
    # A child whose command line names the interpreter by its full path, as
    # make test's steps do: it does not count itself.
    asks = (
        "import os, sys; from pathlib import Path; from stack import test_suite; "
        "found = test_suite.processes_of(Path(sys.executable).parent); "
        "print(os.getpid() in {pid for pid, _ in found})"
    )
    done = subprocess.run(
        [sys.executable, "-c", asks], capture_output=True, text=True, timeout=60
    )

    assert done.stdout.strip() == "False", done.stderr


def test_a_steps_cpu_counts_the_processes_it_waited_for():
    burn = (
        "import time\n"
        "end = time.process_time() + 0.3\n"
        "while time.process_time() < end: pass"
    )
    # The step burns CPU itself and in a child it waits for, then fails.
    step = (
        "import subprocess, sys\n"
        f"subprocess.run([sys.executable, '-c', {burn!r}])\n"
        f"{burn}\n"
        "sys.exit(3)"
    )
    process = subprocess.Popen([sys.executable, "-c", step])

    code, cpu = test_suite._wait_with_cpu(process)

    assert code == process.returncode == 3
    assert cpu >= 0.6

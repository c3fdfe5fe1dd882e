"""``make test`` fails a run that left the local AWS daemon running."""

from __future__ import annotations

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

"""manage.py as a learner uses it: one entry point, two forms of command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from shared_events.configuration import REPO_DIR


def manage(*args: str, dotenv=None, extra_env=None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("ARCHITECTURE_APPROACH", None)
    env.pop("SERVICE", None)
    if dotenv is not None:
        env["PLATFORM_DOTENV"] = str(dotenv)
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, str(REPO_DIR / "manage.py"), *args],
        cwd=REPO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def dotenv(tmp_path):
    return tmp_path / ".env"


def test_help_explains_both_forms():
    result = manage("--help")
    assert result.returncode == 0
    assert "--service customer migrate" in result.stdout
    assert "SERVICE=" in result.stdout
    for command in ("approach", "migrate", "consistency_report", "demo"):
        assert command in result.stdout


def test_approach_set_persists_the_choice_for_both_services(dotenv):
    assert manage("approach", "set", "db_per_service", dotenv=dotenv).returncode == 0
    assert "ARCHITECTURE_APPROACH=db_per_service" in dotenv.read_text()
    shown = manage("approach", "show", dotenv=dotenv)
    assert shown.returncode == 0
    assert "Approach: db_per_service" in shown.stdout
    assert "customer service (db_per_service)" in shown.stdout
    assert "order service (db_per_service)" in shown.stdout


def test_approach_set_keeps_other_settings_in_the_env_file(dotenv):
    dotenv.write_text("DJANGO_DEBUG=true\nARCHITECTURE_APPROACH=shared_db\n")
    assert manage("approach", "set", "db_per_service", dotenv=dotenv).returncode == 0
    assert dotenv.read_text().splitlines() == [
        "DJANGO_DEBUG=true",
        "ARCHITECTURE_APPROACH=db_per_service",
    ]


def test_unknown_approach_is_refused_with_the_valid_names(dotenv):
    result = manage("approach", "set", "nonsense", dotenv=dotenv)
    assert result.returncode != 0
    for name in ("shared_db", "db_per_service", "direct_publish", "cqrs_es"):
        assert name in result.stderr
    assert not dotenv.exists()


def test_a_service_refuses_to_run_under_an_unknown_approach(dotenv):
    result = manage(
        "--service",
        "customer",
        "check",
        dotenv=dotenv,
        extra_env={"ARCHITECTURE_APPROACH": "microliths"},
    )
    assert result.returncode != 0
    assert "unknown approach 'microliths'" in result.stderr


def test_the_environment_variable_wins_over_the_env_file(dotenv):
    dotenv.write_text("ARCHITECTURE_APPROACH=db_per_service\n")
    shown = manage(
        "approach",
        "show",
        dotenv=dotenv,
        extra_env={"ARCHITECTURE_APPROACH": "shared_db"},
    )
    assert "Approach: shared_db" in shown.stdout


def test_a_django_command_runs_on_the_named_service():
    result = manage("--service", "order", "showmigrations", "orders")
    assert result.returncode == 0, result.stderr
    assert "0001_initial" in result.stdout
    from_env = manage("showmigrations", "customers", extra_env={"SERVICE": "customer"})
    assert from_env.returncode == 0, from_env.stderr
    assert "0001_initial" in from_env.stdout


def test_an_unknown_service_is_refused():
    result = manage("--service", "billing", "check")
    assert result.returncode != 0
    assert "customer" in result.stderr and "order" in result.stderr


def test_a_django_command_without_a_service_says_how_to_name_one():
    result = manage("shell")
    assert result.returncode != 0
    assert "--service customer shell" in result.stderr

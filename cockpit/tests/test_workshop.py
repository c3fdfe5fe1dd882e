"""The guided workshop: its steps, filled from a real comparison, and its command.

``data/compare-report.json`` is a real lab comparison's report (see
``test_matrix``); ``manage.py lab workshop`` is run through the lab's own
argument parser.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from cockpit.workshop import RUN_FIRST, STEPS, filled_steps, latest_workshop
from lab import reports
from lab.cli import add_lab_arguments, command_lab
from lab.flaws import flaw_verdict
from lab.workshop import covers_every_step, render_workshop
from shared_events.approaches import Approach

REPORT = Path(__file__).parent / "data" / "compare-report.json"


@pytest.fixture
def report() -> dict:
    return json.loads(REPORT.read_text())


def lab_options(*args: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_lab_arguments(parser)
    return parser.parse_args(list(args))


def test_one_step_per_approach_in_the_papers_order():
    assert [step.approach for step in STEPS] == [a.value for a in Approach]
    for step in STEPS:
        assert step.command == (
            f"python manage.py lab run {step.scenario} --approach {step.approach}"
        )
        assert step.claim and step.look_at and step.question.endswith("?")


def test_each_step_shows_what_was_measured_beside_the_prediction(report):
    steps = filled_steps(report)

    for item in steps:
        result = next(
            r
            for r in report["results"]
            if (r["scenario"], r["backend"]) == (item.step.scenario, item.step.approach)
        )
        verdict = flaw_verdict(item.step.scenario, result["measurements"])
        assert item.measured.startswith(verdict.text)
        assert item.agrees == (verdict.appeared == item.step.flaw_predicted)
        assert len(item.elsewhere) == len(STEPS) - 1
        assert "processes" in item.cost
    # This run bore the paper out at every step.
    assert [item.agrees for item in steps] == [True] * 5


def test_a_measured_result_against_the_prediction_is_called_out(report):
    crash = next(
        r
        for r in report["results"]
        if (r["scenario"], r["backend"]) == ("crash-before-publish", "direct_publish")
    )
    crash["measurements"]["events_lost"] = 0

    text = render_workshop(report)

    assert "NOT as predicted: discuss why" in text
    assert text.count("NOT as predicted") == 1


def test_without_a_run_the_workshop_names_the_command_to_run_first():
    text = render_workshop(None)

    assert RUN_FIRST in text and "**Measured:**" not in text
    assert text.count("## Step") == 5


def test_the_command_writes_the_workshop_from_the_latest_run(
    report, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(reports, "REPORTS_DIR", tmp_path)
    output = tmp_path / "docs" / "workshop.md"

    assert command_lab(lab_options("workshop", "--output", str(output))) == 1
    assert RUN_FIRST in capsys.readouterr().out
    assert not output.exists()
    assert [item.measured for item in latest_workshop()] == [""] * 5

    (tmp_path / "run").mkdir()
    shutil.copy(REPORT, tmp_path / "run" / "lab.json")
    (tmp_path / "latest").symlink_to("run")

    assert command_lab(lab_options("workshop", "--output", str(output))) == 0
    assert output.read_text() == render_workshop(report)
    assert latest_workshop()[1].measured.startswith("flaw: orphan orders")


def test_a_run_covers_the_workshop_only_when_it_measured_every_step(report):
    assert covers_every_step(report)
    assert not covers_every_step(None)
    # Without the burst under cqrs_es, step 5 has nothing to show.
    partial = {
        **report,
        "results": [
            r
            for r in report["results"]
            if (r["scenario"], r["backend"]) != ("burst", "cqrs_es")
        ],
    }
    assert not covers_every_step(partial)

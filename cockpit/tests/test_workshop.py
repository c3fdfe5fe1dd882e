"""The guided workshop: its steps, filled from a real comparison, and its command.

``data/compare-report.json`` is a real lab comparison's report (see
``test_matrix``), ``data/strangle-report.json`` a real run of the migration
(``lab compare --scenario strangle-the-monolith --approach shared_db``);
``manage.py lab workshop`` is run through the lab's own argument parser.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from cockpit.web.presenting import figure_rows
from cockpit.workshop import (
    MIGRATION,
    RUN_FIRST,
    STEPS,
    filled_migration,
    filled_steps,
    latest_migration,
    latest_workshop,
)
from lab import reports
from lab.cli import add_lab_arguments, command_lab
from lab.flaws import flaw_verdict
from lab.workshop import covers_every_step, render_workshop
from shared_events.approaches import Approach

REPORT = Path(__file__).parent / "data" / "compare-report.json"
STRANGLE_REPORT = Path(__file__).parent / "data" / "strangle-report.json"


@pytest.fixture
def report() -> dict:
    return json.loads(REPORT.read_text())


@pytest.fixture
def strangled() -> dict:
    return json.loads(STRANGLE_REPORT.read_text())


def migrated(report: dict) -> dict:
    """The migration's row: it runs from shared_db (skipped elsewhere)."""
    return next(
        r
        for r in report["results"]
        if (r["scenario"], r["backend"]) == ("strangle-the-monolith", "shared_db")
    )


@pytest.fixture
def whole(report, strangled) -> dict:
    """What ``RUN_FIRST`` measures: the comparison's results and the
    migration's, in one report."""
    return {**report, "results": report["results"] + strangled["results"]}


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
    assert "--scenario strangle-the-monolith" in RUN_FIRST


def test_the_migration_is_a_chapter_of_its_own_after_the_five_steps(whole):
    text = render_workshop(whole)

    chapter = text.index(f"## The migration: {MIGRATION.title}")
    assert chapter > text.index("## Step 5")
    assert text.count("**To take away:**") == 1
    assert text.index("**To take away:**") > chapter
    assert (
        "`python manage.py lab run strangle-the-monolith --approach shared_db`"
        in text[chapter:]
    )


def test_the_migration_shows_each_move_beside_the_prediction(strangled):
    item = filled_migration(strangled)
    result = migrated(strangled)
    figures = result["measurements"]["figures"]

    assert item.measured.startswith("no flaw: lost or doubled 0")
    assert item.agrees is True
    for target in ("db_per_service", "event_sourcing", "cqrs_es"):
        move = figures[target]
        assert (
            f"to {target} in {move['seconds']} s: {move['accepted']} writes "
            f"accepted, {move['refused (503)']} refused" in item.measured
        )
    closed = figures["in the end"]["orphans closed"]
    assert f"{closed} orphan orders closed" in item.measured
    # Nothing under the other approaches, no cost: it starts from one.
    assert (item.elsewhere, item.cost) == ([], "")


def test_a_migration_that_lost_a_record_is_called_out(strangled):
    result = migrated(strangled)
    result["measurements"]["figures"]["in the end"]["lost"] = 1

    item = filled_migration(strangled)

    assert item.measured.startswith("flaw: lost or doubled 1")
    assert item.agrees is False


def test_the_command_writes_the_workshop_from_the_latest_run(
    report, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(reports, "REPORTS_DIR", tmp_path)
    output = tmp_path / "docs" / "workshop.md"

    assert command_lab(lab_options("workshop", "--output", str(output))) == 1
    assert RUN_FIRST in capsys.readouterr().out
    assert not output.exists()
    assert [item.measured for item in latest_workshop()] == [""] * 5
    assert latest_migration().measured == ""

    (tmp_path / "run").mkdir()
    shutil.copy(REPORT, tmp_path / "run" / "lab.json")
    (tmp_path / "latest").symlink_to("run")

    assert command_lab(lab_options("workshop", "--output", str(output))) == 0
    assert output.read_text() == render_workshop(report)
    assert latest_workshop()[1].measured.startswith("flaw: orphan orders")


def test_a_run_covers_the_workshop_only_when_it_measured_every_step(
    report, strangled, whole
):
    assert covers_every_step(whole)
    assert not covers_every_step(None)
    # The five steps without the migration, and the migration alone.
    assert not covers_every_step(report)
    assert not covers_every_step(strangled)
    # Without the burst under cqrs_es, step 5 has nothing to show.
    partial = {
        **whole,
        "results": [
            r
            for r in whole["results"]
            if (r["scenario"], r["backend"]) != ("burst", "cqrs_es")
        ],
    }
    assert not covers_every_step(partial)


def test_the_result_shows_each_moves_own_figures(strangled):
    result = migrated(strangled)
    figures = result["measurements"]["figures"]

    rows = figure_rows(result)

    assert len(rows) == sum(len(values) for values in figures.values())
    for move in ("db_per_service", "event_sourcing", "cqrs_es"):
        assert {
            "group": move,
            "name": "accepted",
            "value": str(figures[move]["accepted"]),
        } in rows
    assert {"group": "in the end", "name": "lost", "value": "0"} in rows

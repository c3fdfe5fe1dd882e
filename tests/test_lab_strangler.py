"""The lab's strangle-the-monolith: what it does without a platform to move.

The whole scenario, on a real shared_db platform moved to cqrs_es while
clients write, runs through the same ``lab.runner.run_scenario_on`` as ``lab
compare`` does in the cockpit's browser test (the workshop's migration
chapter, ``tests/browser/test_cockpit.py``): each move's figures, nothing
lost or doubled, the lesson and the paper's expectation. The migration's
commands are tested step by step in ``tests/test_strangler_*.py``, and the
whole path under traffic in ``tests/test_strangler_path.py``.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from lab import runner
from lab.expectations import contradiction
from lab.measurements import Measurements
from lab.scenarios import strangle_the_monolith as strangler
from shared_events.configuration import REPO_DIR


def test_anywhere_but_the_monolith_it_is_skipped_with_its_reason(
    server_url, monkeypatch
):
    monkeypatch.setattr(
        runner.environment, "ensure_database_server", lambda: server_url
    )
    said = []

    run = runner.run_lab(
        scenarios=[strangler.StrangleTheMonolith.name],
        approaches=["db_per_service", "cqrs_es"],
        backends=[],
        progress=said.append,
    )

    assert [result.label for result in run.results] == ["db_per_service", "cqrs_es"]
    for result in run.results:
        assert result.skipped
        assert "starts from the monolith" in result.lesson
    # Nothing to run, so no platform was started (none to measure either).
    assert run.costs == []
    assert not any("starting the platform" in line for line in said)


def test_the_longest_refused_stretch_ends_at_the_first_other_answer():
    answers = [(0.0, "201"), (1.0, "503"), (1.5, "503"), (2.5, "503"), (3.0, "201")]
    answers += [(4.0, "503"), (4.2, "503")]

    assert strangler._longest_run(answers, "503") == pytest.approx(1.5)
    assert strangler._longest_run([(0.0, "201")], "503") == 0


# The measured result of a real run (``lab compare --scenario
# strangle-the-monolith``), kept for the workshop's tests.
STRANGLE_REPORT = REPO_DIR / "cockpit" / "tests" / "data" / "strangle-report.json"


def _measured() -> Measurements:
    (row,) = [
        r
        for r in json.loads(STRANGLE_REPORT.read_text())["results"]
        if r["backend"] == strangler.START
    ]
    fields = {f.name for f in dataclasses.fields(Measurements)}
    return Measurements(**{k: v for k, v in row["measurements"].items() if k in fields})


def test_missing_records_are_lost_only_once_the_platform_went_quiet():
    measured = _measured()
    scenario = strangler.StrangleTheMonolith()
    assert contradiction(scenario.name, strangler.START, measured) is None
    assert "0 lost" in scenario.lesson(strangler.START, measured)

    # Measured while the read side still lagged: not yet applied, not lost,
    # and the paper's expectation cannot be checked.
    end = measured.figures[strangler.END]
    end[strangler.NOT_YET_APPLIED] = end.pop(strangler.LOST) + 65

    lesson = scenario.lesson(strangler.START, measured)
    assert "65 not yet applied when measured" in lesson
    assert "lost" not in lesson.split("(")[0]
    assert "go quiet" in contradiction(scenario.name, strangler.START, measured)


def test_events_dead_lettered_on_the_way_contradict_the_paper():
    measured = _measured()
    measured.figures[strangler.END][strangler.DEAD_LETTERED] = 172

    found = contradiction(strangler.StrangleTheMonolith.name, strangler.START, measured)

    assert "172 were dead-lettered" in found

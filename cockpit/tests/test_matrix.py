"""The scenario x approach matrix, from a real comparison's JSON report.

``data/compare-report.json`` is the report of a real ``manage.py lab compare
--scenario delete-customer --scenario schema-change --scenario
crash-before-publish --scenario burst`` (its lag samples and answers cut to
five each), so every verdict here is judged from measured numbers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cockpit.matrix import (
    FLAW,
    NO_FLAW,
    NOT_APPLICABLE,
    NOT_RUN,
    SKIPPED,
    comparison_matrix,
    render_matrix,
)
from lab.flaws import LAG_BOUND_MS

REPORT = Path(__file__).parent / "data" / "compare-report.json"
APPROACHES = ["shared_db", "db_per_service", "direct_publish", "event_sourcing"]
APPROACHES += ["cqrs_es"]


@pytest.fixture
def report() -> dict:
    return json.loads(REPORT.read_text())


def result(report, scenario, approach) -> dict:
    return next(
        r
        for r in report["results"]
        if r["scenario"] == scenario and r["backend"] == approach
    )


def test_rows_are_scenarios_and_columns_approaches_in_the_labs_order(report):
    matrix = comparison_matrix(report)

    assert matrix.scenarios == [
        "delete-customer",
        "schema-change",
        "crash-before-publish",
        "burst",
    ]
    assert matrix.approaches == APPROACHES


def test_each_cell_is_judged_by_its_scenarios_measured_number(report):
    matrix = comparison_matrix(report)

    for approach in APPROACHES:
        m = result(report, "delete-customer", approach)["measurements"]
        cell = matrix.cell("delete-customer", approach)
        assert cell.number == m["orphan_orders"]
        assert cell.state == (FLAW if m["orphan_orders"] > 0 else NO_FLAW)
        lost = result(report, "crash-before-publish", approach)["measurements"]
        crash = matrix.cell("crash-before-publish", approach)
        if lost["events_lost"] is None:
            assert crash.state == NOT_APPLICABLE and crash.text.startswith("n/a")
        else:
            assert crash.state == (FLAW if lost["events_lost"] else NO_FLAW)
        lag = result(report, "burst", approach)["measurements"]["lag_p99_ms"]
        if lag is not None:
            assert matrix.cell("burst", approach).state == (
                FLAW if lag > LAG_BOUND_MS else NO_FLAW
            )
    # The paper's story, as this run measured it.
    assert matrix.cell("delete-customer", "db_per_service").text == (
        "flaw: orphan orders 2"
    )
    assert matrix.cell("crash-before-publish", "direct_publish").state == FLAW
    assert matrix.cell("crash-before-publish", "event_sourcing").state == NO_FLAW


def test_a_skipped_run_shows_skipped_with_its_reason_and_a_missing_one_not_run(
    report,
):
    skipped = dict(result(report, "burst", "cqrs_es"))
    skipped.update(measurements=None, skipped="no broker here")
    report["results"] = [
        r
        for r in report["results"]
        if (r["scenario"], r["backend"]) != ("burst", "cqrs_es")
    ] + [skipped]
    report["results"] = [
        r
        for r in report["results"]
        if (r["scenario"], r["backend"]) != ("burst", "shared_db")
    ]

    matrix = comparison_matrix(report)

    cell = matrix.cell("burst", "cqrs_es")
    assert (cell.state, cell.text, cell.detail) == (
        SKIPPED,
        "skipped",
        "no broker here",
    )
    assert matrix.cell("burst", "shared_db").state == NOT_RUN
    assert 'title="no broker here">skipped</td>' in render_matrix(matrix)


def test_the_table_says_each_cells_verdict_in_words_beside_its_colour(report):
    matrix = comparison_matrix(report)

    table = render_matrix(matrix)

    cells = re.findall(
        r'<td data-state="([^"]+)" style="background:#\w+"[^>]*>([^<]+)<', table
    )
    assert len(cells) == len(matrix.scenarios) * len(matrix.approaches)
    for state, text in cells:
        assert text.startswith({FLAW: "flaw:", NO_FLAW: "no flaw:"}.get(state, ""))
    # Each row names its flaw and the rule that judged it.
    assert "orphan orders: orphan orders &gt; 0" in table
    assert f"consistency lag: lag p99 ms &gt; {LAG_BOUND_MS:g}" in table


def test_no_comparison_yet_says_so():
    assert "No comparison" in render_matrix(comparison_matrix({"results": []}))

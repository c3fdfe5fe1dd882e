"""The charts' specs from a scenario's results, and the canvas that carries one.

The results are ``ScenarioResult`` objects as the lab makes them, read back
through their JSON (``as_dict``/``from_dict``) as a report keeps them.
"""

from __future__ import annotations

import html
import json
import re

from cockpit.charts import (
    CHARTS_SCRIPT,
    canvas_html,
    charts_script,
    failed_requests_chart,
    lag_distribution_chart,
    lag_p99_chart,
    requests_over_time_chart,
    run_charts,
)
from lab.measurements import Measurements
from lab.runner import ScenarioResult


def result(scenario="burst", approach="event_sourcing", **measured) -> ScenarioResult:
    values = {
        "orphan_orders": 0,
        "events_lost": 0,
        "duplicate_effects": 0,
        "failed_requests": {},
        "lag_p50_ms": None,
        "lag_p99_ms": None,
        **measured,
    }
    made = ScenarioResult(scenario, approach, Measurements(**values), "a lesson")
    # Through the report's JSON and back, as the cockpit reads a past run.
    return ScenarioResult.from_dict(json.loads(json.dumps(made.as_dict())))


def test_the_lag_histogram_counts_every_sample_in_round_bins():
    samples = [3.0, 12.0, 18.0, 19.5, 44.0, 118.0]
    chart = lag_distribution_chart(result(lag_samples_ms=samples, lag_p99_ms=118.0))

    counts = chart["data"]["datasets"][0]["data"]
    labels = chart["data"]["labels"]
    assert sum(counts) == len(samples)
    assert labels[0] == "0-10" and labels[1] == "10-20"
    assert counts[:2] == [1, 3]
    assert labels[-1] == "110-120" and counts[-1] == 1
    assert "(6 events)" in chart["options"]["plugins"]["title"]["text"]


def test_no_lag_samples_no_histogram():
    assert lag_distribution_chart(result(approach="db_per_service")) is None


def test_failed_requests_stack_by_status_per_run():
    runs = [
        result("customer-service-down", "db_per_service", failed_requests={"503": 4}),
        result("schema-change", "shared_db", failed_requests={"500": 2, "409": 1}),
        result("burst", "cqrs_es"),
    ]

    chart = failed_requests_chart(runs)

    assert chart["data"]["labels"] == [
        "customer-service-down / db_per_service",
        "schema-change / shared_db",
        "burst / cqrs_es",
    ]
    by_status = {d["label"]: d["data"] for d in chart["data"]["datasets"]}
    assert by_status == {"409": [0, 1, 0], "500": [0, 2, 0], "503": [4, 0, 0]}
    assert chart["options"]["scales"]["y"]["stacked"] is True
    assert failed_requests_chart([runs[2]]) is None


def test_requests_over_time_split_answered_and_failed_per_second():
    answers = [(0.1, "201"), (0.5, "201"), (1.2, "503"), (1.7, "connection error")]
    answers += [(2.4, "201")]

    chart = requests_over_time_chart(result(answers=answers))

    assert chart["type"] == "line"
    assert chart["data"]["labels"] == ["0", "1", "2"]
    answered, failed = (d["data"] for d in chart["data"]["datasets"])
    assert answered == [2, 0, 1]
    assert failed == [0, 2, 0]
    assert requests_over_time_chart(result()) is None


def test_a_report_gets_every_chart_that_has_data_and_only_those():
    runs = [
        result("burst", "event_sourcing", lag_samples_ms=[5.0], lag_p99_ms=5.0),
        result("burst", "shared_db", answers=[(0.2, "201")]),
    ]

    titles = [c["options"]["plugins"]["title"]["text"] for c in run_charts(runs)]

    assert titles == [
        "Consistency lag p99 per approach and scenario",
        "Lag from commit to applied: burst under event_sourcing (1 events)",
        "Requests per second: burst under shared_db",
    ]
    assert lag_p99_chart(runs)["data"]["labels"] == ["event_sourcing / burst"]


def test_a_canvas_carries_its_spec_and_names_it_in_words():
    chart = lag_p99_chart([result(lag_samples_ms=[5.0], lag_p99_ms=5.0)])

    canvas = canvas_html(chart)

    spec = re.search(r"data-chart='([^']*)'", canvas).group(1)
    assert json.loads(html.unescape(spec)) == chart
    assert 'role="img"' in canvas
    assert 'aria-label="Consistency lag p99 per approach and scenario"' in canvas


def test_the_cockpit_serves_the_script_the_report_inlines():
    script = charts_script()
    assert script == CHARTS_SCRIPT.read_text()
    assert "canvas[data-chart]" in script and "window.Chart" in script

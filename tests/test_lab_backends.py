"""The lab's backends without a platform: names, choices, skips, report rows.

The scenarios themselves run on real platforms in ``tests/test_lab.py``;
these check, in a second, what the command line and the reports make of a
backend combination.
"""

from __future__ import annotations

import argparse
import json

import pytest

from lab import reports as lab_reports
from lab.backends import AWS_FIGURE, Backend, BackendError
from lab.cli import chosen_rows
from lab.measurements import Measurements
from lab.reports import render_html, render_markdown, render_table, write_reports
from lab.runner import ScenarioResult, skipped_result
from lab.scenarios import SCENARIOS
from platform_cli import demo
from platform_cli import lab as lab_command
from platform_cli.errors import PlatformError
from platform_cli.main import build_parser


def test_a_backend_is_written_approach_delivery_store():
    assert Backend.parse("cqrs_es:kinesis:dynamodb") == AWS_FIGURE
    assert AWS_FIGURE.label == "cqrs_es (Kinesis + DynamoDB Streams)"
    assert AWS_FIGURE.environment() == {
        "EVENT_DELIVERY": "kinesis",
        "EVENT_STORE": "dynamodb",
    }
    assert Backend.parse("event_sourcing:kinesis").label == "event_sourcing (Kinesis)"
    assert (
        Backend.parse("event_sourcing:sns:dynamodb").label
        == "event_sourcing (SNS + SQS + DynamoDB Streams)"
    )
    default = Backend.parse("direct_publish")
    assert default.is_default and default.label == "direct_publish"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("shared_db:kinesis", "approaches 3 to 5"),
        ("direct_publish:sns:dynamodb", "event_sourcing and cqrs_es"),
        ("cqrs_es:carrier-pigeon", "delivery"),
        ("cqrs_es:sns:cassandra", "store"),
        ("cqrs:kinesis", "unknown approach"),
        ("cqrs_es:kinesis:dynamodb:extra", "APPROACH"),
    ],
)
def test_a_backend_that_cannot_run_is_refused_with_why(text, reason):
    with pytest.raises(BackendError, match=reason):
        Backend.parse(text)


def options(**given) -> argparse.Namespace:
    values = {"approach": None, "backend": None, "delivery": None, "store": None}
    return argparse.Namespace(**{**values, **given})


def test_the_command_line_chooses_the_rows():
    approaches, backends = chosen_rows(options())
    assert (len(approaches), backends) == (5, [])

    approaches, backends = chosen_rows(options(backend=["cqrs_es:kinesis:dynamodb"]))
    assert (approaches, backends) == ([], [AWS_FIGURE])

    approaches, backends = chosen_rows(
        options(approach=["cqrs_es"], backend=["cqrs_es:kinesis:dynamodb"])
    )
    assert (approaches, backends) == (["cqrs_es"], [AWS_FIGURE])

    # --store alone: every approach it applies to.
    approaches, backends = chosen_rows(options(store="dynamodb"))
    assert approaches == []
    assert [b.spec for b in backends] == [
        "event_sourcing:sns:dynamodb",
        "cqrs_es:sns:dynamodb",
    ]
    with pytest.raises(BackendError, match="event_sourcing and cqrs_es"):
        chosen_rows(options(approach=["direct_publish"], store="dynamodb"))


def test_the_lab_command_refuses_a_backend_that_cannot_run():
    parsed = build_parser().parse_args(
        ["lab", "compare", "--backend", "shared_db:kinesis"]
    )
    with pytest.raises(PlatformError, match="approaches 3 to 5"):
        lab_command.run(parsed)


def test_only_faults_a_backend_lacks_are_skipped():
    reason = SCENARIOS["broker-outage"].skip_reason(AWS_FIGURE)
    assert reason and "EVENT_STORE=dynamodb" in reason
    assert SCENARIOS["broker-outage"].skip_reason(Backend("cqrs_es", "kinesis")) is None
    assert SCENARIOS["duplicate-delivery"].skip_reason(AWS_FIGURE) is None
    assert SCENARIOS["duplicate-delivery"].skip_reason(Backend("cqrs_es", "sqs"))
    for approach in ("shared_db", "db_per_service", "cqrs_es"):
        for scenario in SCENARIOS.values():
            reason = scenario.skip_reason(Backend(approach))
            if scenario.name == "add-consumer" and approach != "cqrs_es":
                # No order history to replay, no order events to follow.
                assert reason and "event_sourcing and cqrs_es" in reason
            elif scenario.name == "strangle-the-monolith" and approach != "shared_db":
                # The journey starts from the monolith.
                assert reason and "starts from the monolith" in reason
            else:
                assert reason is None, (scenario.name, approach)


def test_make_demo_adds_the_aws_figure_when_cqrs_es_runs(monkeypatch):
    seen = []
    monkeypatch.setattr(demo, "command_lab", lambda o: seen.append(o) or 0)
    parser = build_parser()

    demo.run(parser.parse_args(["demo"]))
    demo.run(parser.parse_args(["demo", "--approach", "shared_db"]))
    demo.run(parser.parse_args(["demo", "--no-aws-figure"]))

    assert [o.backend for o in seen] == [[AWS_FIGURE.spec], [], []]
    assert seen[0].approach == [
        "shared_db",
        "db_per_service",
        "direct_publish",
        "event_sourcing",
        "cqrs_es",
    ]
    approaches, backends = chosen_rows(seen[0])
    assert (len(approaches), backends) == (5, [AWS_FIGURE])


def measured(**given) -> Measurements:
    values = {
        "orphan_orders": 0,
        "events_lost": 0,
        "duplicate_effects": 0,
        "failed_requests": {},
        "lag_p50_ms": 120.0,
        "lag_p99_ms": 300.0,
        "events_stored": 6,
        "audit": "consistent",
    }
    return Measurements(**{**values, **given})


def test_the_reports_name_each_rows_backend_and_show_a_skip(tmp_path, monkeypatch):
    monkeypatch.setattr(lab_reports, "REPORTS_DIR", tmp_path)
    rows = [
        ScenarioResult("delete-customer", "cqrs_es", measured(), "no orphans"),
        ScenarioResult(
            "delete-customer",
            "cqrs_es",
            measured(lag_p50_ms=230.0),
            "no orphans",
            delivery="kinesis",
            store="dynamodb",
        ),
        skipped_result(SCENARIOS["broker-outage"], AWS_FIGURE, "no outbox there"),
    ]

    table = render_table(rows).splitlines()
    assert table[2].split()[:2] == ["delete-customer", "cqrs_es"]
    assert table[4].startswith("delete-customer  cqrs_es (Kinesis + DynamoDB Streams)")
    assert "230/300" in table[4]
    assert "broker-outage" in table[6] and table[6].rstrip().endswith("skipped")
    assert table[7].strip() == "lesson: skipped: no outbox there"
    assert "ran on the defaults" in table[-1]

    paths = write_reports(rows, title="backends")
    data = json.loads(paths["json"].read_text())["results"]
    assert [(r["backend"], r["delivery"], r["store"], r["skipped"]) for r in data] == [
        ("cqrs_es", "sns", "postgres", None),
        ("cqrs_es (Kinesis + DynamoDB Streams)", "kinesis", "dynamodb", None),
        (AWS_FIGURE.label, "kinesis", "dynamodb", "no outbox there"),
    ]
    assert data[2]["measurements"] is None and data[2]["contradiction"] is None
    assert "cqrs_es (Kinesis + DynamoDB Streams) / delete-customer" in render_html(
        rows, title="backends"
    )
    assert "skipped: no outbox there" in render_markdown(rows, title="backends")

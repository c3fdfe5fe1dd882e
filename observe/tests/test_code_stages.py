"""The rule that counts the code each approach activates (``observe.code_stages``).

Read from the repository as it is: the stage table must name real paths,
each module must fall in one stage, and the approaches must add up as the
paper tells them, each one paying for the last one's flaw.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from observe.code_stages import (
    CORE,
    STAGES,
    code_footprint,
    code_lines,
    lines_by_stage,
    service_modules,
    stage_of,
)
from shared_events.approaches import Approach
from shared_events.configuration import REPO_DIR

APPROACHES_IN_ORDER = [approach.value for approach in Approach]


@pytest.fixture(scope="module")
def lines() -> dict[str, int]:
    return lines_by_stage()


def test_every_path_of_the_table_exists_and_holds_code():
    for stage in STAGES:
        for path in stage.paths:
            found = REPO_DIR / path
            assert found.is_dir() if path.endswith("/") else found.is_file(), path


def test_every_stage_counts_some_code_and_no_module_twice(lines):
    assert all(count > 0 for count in lines.values()), lines
    modules = service_modules()
    assert sum(lines.values()) == sum(map(code_lines, modules))


def test_tests_helpers_and_migrations_are_not_code_an_approach_runs():
    relative = {path.relative_to(REPO_DIR).as_posix() for path in service_modules()}
    assert "order_service/orders/services.py" in relative
    assert not [p for p in relative if "/tests/" in p or "/migrations/" in p]
    assert not [p for p in relative if "/testing/" in p or p.endswith("conftest.py")]


def test_a_module_belongs_to_the_first_stage_that_names_it():
    assert stage_of("shared_events/consume/lambda_handler.py") == (
        "Lambda functions and their runner"
    )
    assert stage_of("shared_events/consume/consumer.py") == "consumers and the replica"
    assert stage_of("shared_events/outbox/stream_relay.py") == "DynamoDB event store"
    assert stage_of("shared_events/outbox/relay.py") == "outbox and its relay"
    assert stage_of("order_service/orders/customers.py") == CORE


def test_comments_and_blank_lines_are_not_counted(tmp_path: Path):
    module = tmp_path / "module.py"
    module.write_text('"""Doc."""\n\n# why\nx = 1  # what\n    # indented\n')

    assert code_lines(module) == 2


def test_each_approach_activates_more_than_the_last(lines):
    """Approach 1's shared table is its only stage; from 3 on events cross,
    4 adds the event store and the relay, 5 the read side."""
    stages = {
        approach: set(code_footprint(approach, lines=lines).stages)
        for approach in APPROACHES_IN_ORDER
    }
    assert stages["shared_db"] == {"shared customer table"}
    assert stages["db_per_service"] == set()
    assert stages["direct_publish"] < stages["event_sourcing"] < stages["cqrs_es"]
    assert stages["event_sourcing"] - stages["direct_publish"] == {
        "event store and history",
        "outbox and its relay",
    }
    assert stages["cqrs_es"] - stages["event_sourcing"] == {
        "read side: projections, read models, query API"
    }
    totals = [code_footprint(a, lines=lines).total for a in APPROACHES_IN_ORDER[1:]]
    assert totals == sorted(totals) and len(set(totals)) == len(totals)


def test_the_aws_backends_trade_the_relay_for_functions_and_streams(lines):
    default = set(code_footprint("cqrs_es", lines=lines).stages)
    aws = set(
        code_footprint(
            "cqrs_es", delivery="kinesis", store="dynamodb", lines=lines
        ).stages
    )

    assert aws - default == {
        "Lambda functions and their runner",
        "DynamoDB event store",
        "Kinesis streams",
    }
    assert default - aws == {"outbox and its relay"}

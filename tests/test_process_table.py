"""The process table: what each approach runs, and the README saying the same."""

from __future__ import annotations

import re

import pytest

from shared_events.approaches import APPROACHES, Approach
from shared_events.configuration import REPO_DIR, SERVICES
from stack.process_table import (
    DEFAULT_PORTS,
    Kind,
    deployed_processes,
    platform_processes,
    worker_processes,
)


def names(approach: Approach) -> set[str]:
    return {process.name for process in platform_processes(approach)}


@pytest.mark.parametrize("approach", list(Approach))
def test_each_approach_runs_what_its_traits_need(approach):
    info = APPROACHES[approach]
    kinds = {process.kind for process in platform_processes(approach)}

    assert (Kind.CONSUMER in kinds) == info.uses_events
    assert (Kind.PROJECTOR in kinds) == info.read_side
    assert (Kind.QUERY in kinds) == info.read_side
    assert {f"{s}-relay" for s in info.outbox_services} == {
        p.name for p in platform_processes(approach) if p.kind is Kind.RELAY
    }
    assert {f"{s}-web" for s in SERVICES} <= names(approach)


def test_the_query_side_runs_as_its_own_web_process():
    query = [p for p in platform_processes(Approach.CQRS_ES) if p.kind is Kind.QUERY]

    assert [p.service for p in query] == list(SERVICES)
    for process in query:
        assert dict(process.environment) == {"QUERY_SIDE_ONLY": "true"}
        assert process.command(bind="0.0.0.0:8000") == (
            "serve",
            "--bind",
            "0.0.0.0:8000",
        )


def test_the_readme_lists_each_approachs_processes():
    readme = (REPO_DIR / "README.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| ([a-z, -]+) \|$", readme, re.MULTILINE))

    for approach in Approach:
        listed = {name.strip() for name in rows[approach.value].split(",")}
        assert listed == names(approach), approach


def kinds_with(approach, **backends) -> dict[str, set[Kind]]:
    """Each service's kinds of process (the gateway belongs to none)."""
    found: dict[str, set[Kind]] = {}
    for process in platform_processes(approach, **backends):
        if process.service is not None:
            found.setdefault(process.service, set()).add(process.kind)
    return found


@pytest.mark.parametrize("approach", [a for a in Approach if APPROACHES[a].uses_events])
def test_under_kinesis_the_runner_replaces_the_long_polling_workers(approach):
    for service, kinds in kinds_with(approach, delivery="kinesis").items():
        assert Kind.CONSUMER not in kinds, service
        assert Kind.PROJECTOR not in kinds, service
        assert Kind.FUNCTIONS in kinds, service
        # The outbox, where there is one, is still relayed by Celery.
        outbox = service in APPROACHES[approach].outbox_services
        assert (Kind.RELAY in kinds) == outbox, service


@pytest.mark.parametrize("approach", [Approach.EVENT_SOURCING, Approach.CQRS_ES])
def test_under_dynamodb_the_stream_replaces_the_outbox_relay(approach):
    for service, kinds in kinds_with(approach, store="dynamodb").items():
        assert Kind.RELAY not in kinds, service
        assert Kind.FUNCTIONS in kinds, service
        assert Kind.CONSUMER in kinds, service  # SNS to SQS still delivers


def test_the_runner_is_started_like_the_other_workers():
    (runner, *_) = [
        p
        for p in platform_processes(Approach.CQRS_ES, delivery="kinesis")
        if p.kind is Kind.FUNCTIONS
    ]

    assert runner.arguments == ("run_event_source_mappings",)
    assert runner.ready_text == "running "
    assert runner.applies_events and not runner.serves_http


BACKENDS = [
    {"delivery": delivery, "store": store}
    for delivery in ("sns", "kinesis")
    for store in ("postgres", "dynamodb")
]


@pytest.mark.parametrize("approach", list(Approach))
@pytest.mark.parametrize("backends", BACKENDS, ids=str)
def test_every_approach_ends_with_the_gateway(approach, backends):
    """One gateway, started last (its routes lead to the web servers before
    it), on the port make up serves it on; not a worker, and not deployed as
    a task (on AWS, API Gateway plays it)."""
    table = platform_processes(approach, **backends)
    gateways = [p for p in table if p.kind is Kind.GATEWAY]

    assert gateways == [table[-1]]
    assert table[-1].name == "gateway" and table[-1].service is None
    assert DEFAULT_PORTS["gateway"] == 8000
    assert Kind.GATEWAY not in {p.kind for p in worker_processes(approach, **backends)}
    deployed = deployed_processes(approach, **backends)
    assert Kind.GATEWAY not in {p.kind for p in deployed}

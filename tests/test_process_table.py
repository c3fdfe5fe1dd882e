"""The process table: what each approach runs, and the README saying the same."""

from __future__ import annotations

import re

import pytest

from shared_events.approaches import APPROACHES, Approach
from shared_events.configuration import REPO_DIR, SERVICES
from stack.process_table import Kind, platform_processes


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

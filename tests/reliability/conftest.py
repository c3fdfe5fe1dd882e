"""The fault-injection suite's PostgreSQL server, and the closing totals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stack import postgres
from tests.reliability.rounds import TOTALS, Totals


@pytest.fixture(scope="session")
def own_postgres() -> Iterator[postgres.EmbeddedPostgres]:
    """An embedded server in a temporary directory, for both approaches'
    platforms: the rounds restart it, which a shared server would not allow."""
    with postgres.throwaway_server() as server:
        yield server


@pytest.fixture(scope="session", autouse=True)
def reliability_totals() -> Iterator[None]:
    yield
    if not TOTALS:
        return
    grand = Totals()
    for totals in TOTALS.values():
        for name in vars(grand):
            setattr(grand, name, getattr(grand, name) + getattr(totals, name))
    print()
    for approach, totals in TOTALS.items():
        print(totals.line(approach))
    print(grand.line("all approaches"), flush=True)

"""Platforms for the fault-injection suite, and the closing totals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.rounds import TOTALS, Totals


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

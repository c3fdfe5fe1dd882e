"""A platform of the reliability suite: its own databases, dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shared_events.configuration import all_database_names
from stack import postgres
from stack.platform_run import PlatformRun, running_platform
from tests.reliability.rounds import platform_env


@contextmanager
def reliability_platform(
    approach: str, *, server_url: str, prefix: str
) -> Iterator[PlatformRun]:
    """A fresh platform under ``approach`` on databases of its own."""
    own = f"{prefix}rel_"
    try:
        with running_platform(
            approach=approach,
            server_url=server_url,
            prefix=own,
            extra_env=platform_env(),
        ) as run:
            yield run
    finally:
        postgres.drop_databases(server_url=server_url, names=all_database_names(own))

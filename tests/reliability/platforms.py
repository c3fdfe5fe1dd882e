"""A platform of the reliability suite, on the suite's own PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shared_events.configuration import all_database_names
from stack import postgres
from stack.platform_run import PlatformRun, running_platform
from tests.reliability.rounds import platform_env

# The server is the suite's own, so the names need only keep the two
# approaches' platforms apart.
DATABASE_PREFIX = "rel_"


@contextmanager
def reliability_platform(
    approach: str, *, server: postgres.EmbeddedPostgres
) -> Iterator[PlatformRun]:
    """A fresh platform under ``approach`` on ``server``, which the rounds restart."""
    try:
        with running_platform(
            approach=approach,
            server_url=server.url,
            prefix=DATABASE_PREFIX,
            extra_env=platform_env(),
        ) as run:
            yield run
    finally:
        postgres.drop_databases(
            server_url=server.url, names=all_database_names(DATABASE_PREFIX)
        )

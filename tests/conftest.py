"""Cross-service tests: real PostgreSQL, real service processes on loopback."""

from __future__ import annotations

import os
import signal

import pytest

from shared_events.configuration import all_database_names
from stack import environment, postgres
from stack.platform_run import running_platform
from stack.span_receiver import TELEMETRY_DATABASE


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    """SIGTERM ends a run as Ctrl-C does, with every fixture torn down.

    Python's default for SIGTERM ends the process at once, and the platforms
    these tests start (web servers, consumers, the local AWS) would be left
    running; ``make test`` already sends SIGINT, ``make soak`` and a bare
    pytest get this.
    """
    signal.signal(signal.SIGTERM, _interrupted)


@pytest.fixture(scope="session")
def server_url() -> str:
    """The PostgreSQL server of this test run (make test sets it)."""
    return environment.server_url_for_tests()


@pytest.fixture(scope="module")
def monkeypatch_module():
    """pytest's monkeypatch for a module's fixtures: undone after the module."""
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="session")
def database_prefix(server_url):
    """A prefix of database names owned by this test session, dropped at the end."""
    prefix = f"xs{os.getpid()}_"
    yield prefix
    postgres.drop_databases(
        server_url=server_url,
        names=[*all_database_names(prefix), prefix + TELEMETRY_DATABASE],
    )


@pytest.fixture(scope="session")
def traced_cqrs_platform(server_url, database_prefix):
    """A cqrs_es platform with tracing on and its gateway in front, for every
    module of a session that reads one (the query processes', the traces'):
    a platform start is the costliest part of such a module. Its databases
    carry a prefix of their own, so the modules' own platforms (which reset
    ``database_prefix``'s) never touch it."""
    prefix = f"{database_prefix}tq_"
    try:
        with running_platform(
            approach="cqrs_es", server_url=server_url, prefix=prefix, tracing=True
        ) as run:
            run.start_gateway()
            yield run
    finally:
        postgres.drop_databases(
            server_url=server_url,
            names=[*all_database_names(prefix), prefix + TELEMETRY_DATABASE],
        )

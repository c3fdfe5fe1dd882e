"""pytest fixtures that start the local AWS (a moto server) for a test run.

A plugin (``pytest_plugins = ["stack.moto_fixtures"]`` in a conftest), so
that the contracts in ``shared_events/testing`` can ask for a moto server by
fixture name without the events library importing the runtime that starts it.
"""

from collections.abc import Iterator

import pytest

from stack.moto_server import MotoServer, start_moto_server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server for the whole run; tests that need it empty reset it."""
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="class")
def class_moto_server() -> Iterator[MotoServer]:
    """A moto server of the test class's own, stopped after its last test."""
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()

"""Fixtures for every shared_events test package: one local AWS per session.

Tests that need an empty broker reset it themselves (``MotoServer.reset``,
``relay_support.fresh_broker``, the ``aws`` fixture of ``transport/tests``).
"""

from collections.abc import Iterator

import pytest

from stack.moto_server import MotoServer, start_moto_server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()

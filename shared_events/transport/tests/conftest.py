"""One real moto server (a subprocess, spoken to over HTTP) for the whole session.

Each test starts from an empty server and leaves it empty again: moto slows down as
its queues grow, and a test must not see another test's queues.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared_events.transport.clients import AwsSettings
from stack.moto_server import MotoServer


@pytest.fixture
def aws(moto_server: MotoServer) -> Iterator[AwsSettings]:
    """Settings for the session's moto server, reset before and after the test."""
    moto_server.reset()
    yield AwsSettings(endpoint_url=moto_server.endpoint_url)
    moto_server.reset()

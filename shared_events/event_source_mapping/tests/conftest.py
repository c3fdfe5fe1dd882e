"""The runner's tests: plain Python handlers against the session's moto server.

No Django and no database: the handlers are callables that record what they
got. Each test starts from an empty moto and leaves it empty.
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

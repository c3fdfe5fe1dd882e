"""One running platform for the cockpit's tests that need one.

``event_sourcing`` with tracing on and its gateway in front: the live
numbers, the waterfall and the event browser all read it. Started once for
the package (a platform start is the costliest part of these tests) and
stopped, its databases dropped, after the last of them.
"""

from __future__ import annotations

import os

import pytest

from shared_events.configuration import all_database_names
from stack import environment, postgres
from stack.platform_run import running_platform
from stack.span_receiver import TELEMETRY_DATABASE


@pytest.fixture(scope="package")
def server_url() -> str:
    return environment.server_url_for_tests()


@pytest.fixture(scope="package")
def platform(server_url):
    prefix = f"{os.environ.get('TEST_DATABASE_PREFIX', '')}ckp{os.getpid()}_"
    try:
        with running_platform(
            approach="event_sourcing",
            server_url=server_url,
            prefix=prefix,
            tracing=True,
        ) as run:
            run.start_gateway()
            yield run
    finally:
        postgres.drop_databases(
            server_url=server_url,
            names=[*all_database_names(prefix), prefix + TELEMETRY_DATABASE],
        )

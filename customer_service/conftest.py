"""Fixtures for the customer service's tests; the shared ones come from
``service_kit.testing.fixtures`` (a staff user, API clients)."""

import pytest

from customer_service import bootstrap
from service_kit.testing.wiring import wired_for_event_sourcing

pytest_plugins = ["service_kit.testing.fixtures", "stack.moto_fixtures"]


@pytest.fixture
def event_sourcing():
    """The customer service wired for event sourcing (approach 4), for one test."""
    with wired_for_event_sourcing(bootstrap) as wiring:
        yield wiring

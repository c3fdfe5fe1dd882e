"""Fixtures for the order service's tests: a fake customer directory; the
shared ones come from ``service_kit.testing.fixtures`` (a staff user, API
clients)."""

import pytest

from order_service import bootstrap
from order_service.orders.tests.fakes import FakeCustomerDirectory
from service_kit.testing.wiring import wired_for_event_sourcing

pytest_plugins = ["service_kit.testing.fixtures", "stack.moto_fixtures"]


@pytest.fixture(autouse=True)
def customer_directory():
    """The fake customer directory, wired in through the composition root.

    Autouse: no unit test may call a real customer service by accident (one
    may well be listening on the default port while a learner runs the demo).
    """
    fake = FakeCustomerDirectory()
    with bootstrap.overridden(customer_directory=fake):
        yield fake


@pytest.fixture
def event_sourcing(customer_directory):
    """The order service wired for event sourcing (approach 4), for one test,
    keeping the fake customer directory in place of the replica."""
    with wired_for_event_sourcing(
        bootstrap, customer_directory=customer_directory
    ) as wiring:
        yield wiring

"""Fixtures for the order service's tests: a staff user, clients, a fake directory.

The authenticated client sends a real DRF token in the Authorization header
(no ``force_authenticate``), so every API test goes through the same
authentication path as a learner's client.
"""

import dataclasses

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from order_service import bootstrap
from order_service.orders.tests.fakes import FakeCustomerDirectory
from shared_events.approaches import Approach


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
def user(db):
    """A staff user: it sees every customer's data, as the lab's operator does.

    Scoping to one customer's data is tested with customer users of its own
    (``service_kit.access``).
    """
    return get_user_model().objects.create_user(
        username="learner", password=None, is_staff=True
    )


@pytest.fixture
def api_client(user):
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anonymous_client():
    return APIClient()


@pytest.fixture
def event_sourcing(customer_directory):
    """The order service wired for event sourcing (approach 4), for one test.

    The test runner pins db_per_service, so the test installs the wiring the
    composition root builds for event_sourcing, keeping the fake customer
    directory in place of the replica. The relay is never woken (no Celery,
    no SQS): the outbox rows stay where the test can read them.
    """
    built = bootstrap.build_wiring(Approach.EVENT_SOURCING, wake_relay=lambda: None)
    adapters = {
        field.name: getattr(built, field.name) for field in dataclasses.fields(built)
    }
    adapters["customer_directory"] = customer_directory
    with bootstrap.overridden(**adapters) as wiring:
        yield wiring

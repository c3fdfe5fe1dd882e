"""Fixtures for the customer service's tests: a staff user, API clients, approach 4.

The authenticated client sends a real DRF token in the Authorization header
(no ``force_authenticate``), so every API test goes through the same
authentication path as a learner's client.
"""

import dataclasses

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customer_service import bootstrap
from shared_events.approaches import Approach


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
def event_sourcing():
    """The customer service wired for event sourcing (approach 4), for one test.

    The test runner pins db_per_service, so the test installs the wiring the
    composition root builds for event_sourcing. The relay is never woken (no
    Celery, no SQS): the outbox rows stay where the test can read them.
    """
    built = bootstrap.build_wiring(Approach.EVENT_SOURCING, wake_relay=lambda: None)
    adapters = {
        field.name: getattr(built, field.name) for field in dataclasses.fields(built)
    }
    with bootstrap.overridden(**adapters) as wiring:
        yield wiring

"""The fixtures both services' tests share, loaded as a pytest plugin.

A service's root ``conftest.py`` says ``pytest_plugins =
["service_kit.testing.fixtures"]`` and adds only what is its own. What a
learner should notice: the authenticated client sends a real DRF token in
the Authorization header (no ``force_authenticate``), so every API test goes
through the same authentication path as a learner's client.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from shared_events.approaches import Approach, approach_info


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Passwords hashed with one fast round in tests: PBKDF2's million rounds
    (Django's default, and the services' own) cost half a second of CPU per
    login, and the login tests log in hundreds of times. What is tested is
    who may log in, not the hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.fixture(params=[Approach.DB_PER_SERVICE, Approach.EVENT_SOURCING])
def approach(request, db):
    """Run the test under the runner's wiring, then under event sourcing.

    Both kinds of repository (a state table, the event store) must mean the
    same to a client; the service's ``event_sourcing`` fixture wires the second.
    """
    if approach_info(request.param).outbox_services:
        request.getfixturevalue("event_sourcing")
    return request.param.value


@pytest.fixture
def token_header(user):
    """The staff user's real token as a header, for requests sent through the
    WSGI application (schemathesis) rather than the test client."""
    # As Django's test client does: a request must not close the connection
    # that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)

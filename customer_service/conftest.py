"""Fixtures for the customer service's tests: a user and API clients.

The authenticated client sends a real DRF token in the Authorization header
(no ``force_authenticate``), so every API test goes through the same
authentication path as a learner's client.
"""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(username="learner", password=None)


@pytest.fixture
def api_client(user):
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anonymous_client():
    return APIClient()

"""The customer service issues JWTs; the admin is for staff only."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"


@pytest.fixture
def learner():
    return get_user_model().objects.create_user(
        username="learner", password="a long passphrase"
    )


def test_a_user_with_a_password_gets_a_jwt_that_the_apis_accept(learner):
    learner.is_staff = True
    learner.save()
    client = APIClient()
    issued = client.post(
        TOKEN_URL,
        {"username": "learner", "password": "a long passphrase"},
        format="json",
    )

    assert issued.status_code == 200, issued.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.json()['access']}")
    assert client.get("/api/customers/").status_code == 200


def test_a_wrong_password_gets_no_token(learner):
    refused = APIClient().post(
        TOKEN_URL, {"username": "learner", "password": "guess"}, format="json"
    )

    assert refused.status_code == 401
    assert "access" not in refused.json()


def test_a_missing_field_is_named(learner):
    refused = APIClient().post(TOKEN_URL, {"username": "learner"}, format="json")

    assert refused.status_code == 400
    assert "password" in refused.json()


def test_the_admin_is_for_staff_only(client, learner):
    client.force_login(learner)
    assert client.get("/admin/").status_code == 302  # sent to the login page

    learner.is_staff = True
    learner.save()
    assert client.get("/admin/").status_code == 200

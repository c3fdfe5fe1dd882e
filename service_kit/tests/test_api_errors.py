"""A database that went away answers 503 with Retry-After, never a 500.

Run under the customer service's settings; the handler is both services'.
The outage itself is played by the selector's query failing the way
psycopg2 fails when the server shuts down (the reliability suite restarts
a real server: tests/reliability).
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import InterfaceError, OperationalError
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customer_service.customers import apis

pytestmark = pytest.mark.django_db

LIST_URL = reverse("customer-list")


@pytest.fixture
def api_client():
    user = get_user_model().objects.create_user(username="operator", is_staff=True)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}"
    )
    return client


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("terminating connection due to administrator command"),
        InterfaceError("connection already closed"),
    ],
)
def test_a_lost_database_is_a_503_with_retry_after(api_client, monkeypatch, error):
    def unreachable(**filters):
        raise error

    monkeypatch.setattr(apis, "customer_list", unreachable)

    response = api_client.get(LIST_URL)

    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert "could not be reached" in response.json()["detail"]


def test_the_schema_documents_the_503(api_client):
    schema = api_client.get(reverse("schema"), HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/customers/"]["get"]
    assert "503" in operation["responses"]

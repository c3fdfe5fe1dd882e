"""Request limits, as a client meets them: body size, page size, request rate.

Run under the customer service's settings: the limits live in the settings
and modules both services share, so one service shows them for both.
"""

import json

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customer_service.customers.models import Customer
from service_kit.api.pagination import MAX_PAGE_SIZE

pytestmark = pytest.mark.django_db

LIST_URL = reverse("customer-list")
REGISTER_URL = reverse("customer-register")
HEALTH_URL = reverse("health")
# Open to anonymous clients: the token endpoint (the schema needs credentials).
TOKEN_URL = reverse("token-obtain")


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """The throttles count in the cache: start and leave each test at zero."""
    cache.clear()
    yield
    cache.clear()


def token_client(username: str = "learner") -> APIClient:
    user = get_user_model().objects.create_user(
        username=username, password=None, is_staff=True
    )
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}"
    )
    return client


@pytest.fixture
def api_client():
    return token_client()


@pytest.fixture
def throttle_rates(settings):
    """Set throttle rates for one test (DRF reloads its settings on change)."""

    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }

    return set_rates


# --- request bodies ------------------------------------------------------------


def test_an_oversized_body_is_refused_with_413_and_a_json_detail(api_client):
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = json.dumps(
        {"name": "Ada", "email": "ada@example.com", "address": "x" * limit}
    )

    response = api_client.post(REGISTER_URL, body, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert str(limit) in response.json()["detail"]
    assert not Customer.objects.exists()


def test_the_limit_is_the_setting(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = json.dumps({"name": "Ada", "email": "ada@example.com", "address": "x" * 80})

    response = api_client.post(REGISTER_URL, body, content_type="application/json")

    assert response.status_code == 413


def test_a_body_within_the_limit_is_read_as_usual(api_client):
    body = json.dumps(
        {"name": "Ada", "email": "ada@example.com", "address": "x" * 1000}
    )

    response = api_client.post(REGISTER_URL, body, content_type="application/json")

    assert response.status_code == 400
    assert "address" in response.json()


# --- page sizes ----------------------------------------------------------------


@pytest.fixture
def many_customers():
    Customer.objects.bulk_create(
        Customer(name=f"Customer {n}", email=f"c{n}@example.com", address="Street")
        for n in range(MAX_PAGE_SIZE + 20)
    )


def test_a_limit_above_the_cap_answers_at_most_100_items(api_client, many_customers):
    response = api_client.get(LIST_URL, {"limit": 1000})

    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == MAX_PAGE_SIZE == 100
    assert body["count"] == MAX_PAGE_SIZE + 20
    assert "limit=100" in body["next"]


def test_without_a_limit_a_page_has_the_default_size(api_client, many_customers):
    response = api_client.get(LIST_URL)

    assert (
        len(response.json()["results"]) == django_settings.REST_FRAMEWORK["PAGE_SIZE"]
    )


# --- request rates -------------------------------------------------------------


def test_a_user_past_the_rate_gets_429(api_client, throttle_rates):
    throttle_rates(user="3/min")

    answers = [api_client.get(LIST_URL).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    refused = api_client.get(LIST_URL)
    assert "throttled" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0


def test_each_user_has_a_count_of_its_own(api_client, throttle_rates):
    throttle_rates(user="3/min")
    for _ in range(3):
        api_client.get(LIST_URL)

    assert api_client.get(LIST_URL).status_code == 429
    assert token_client("grace").get(LIST_URL).status_code == 200


def test_an_anonymous_client_past_the_rate_gets_429(throttle_rates):
    throttle_rates(anon="2/min")
    client = APIClient()
    wrong = {"username": "nobody", "password": "wrong"}

    answers = [
        client.post(TOKEN_URL, wrong, format="json").status_code for _ in range(3)
    ]

    assert answers == [401, 401, 429]


def test_the_health_check_is_never_throttled(throttle_rates):
    """Load balancers poll it; throttling it would take a healthy service out."""
    throttle_rates(anon="2/min")
    client = APIClient()

    answers = [client.get(HEALTH_URL).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 200]


def test_the_order_service_principal_is_throttled_by_its_name(throttle_rates):
    """It has no database user (no pk) to count by: a 429, never a 500."""
    throttle_rates(user="2/min")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Service {django_settings.CUSTOMER_SERVICE_TOKEN}"
    )

    answers = [client.get(LIST_URL).status_code for _ in range(3)]

    assert answers == [200, 200, 429]

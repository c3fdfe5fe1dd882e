"""Whose count a request adds to, and where the counts are kept.

Run under the customer service's settings, as ``test_request_limits`` is.
What these prove: the counts live in PostgreSQL, so two processes (two
gunicorn workers, two hosts) add to one count; a count's key names the
service and the client as its credentials name it; and a request whose
credentials are refused is counted by its address instead of not at all.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.test import APIClient

from service_kit.api.limits import UserRateThrottle

LIST_URL = reverse("customer-list")
TOKEN_URL = reverse("token-obtain")


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def throttle_rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }

    return set_rates


def staff_token() -> str:
    user = get_user_model().objects.create_user(username="learner", is_staff=True)
    return Token.objects.create(user=user).key


# ONE COUNT FOR EVERY PROCESS
# ------------------------------------------------------------------------------

# Another process of the same service: its own settings, caches and
# connections, sending three requests with the token through the WSGI stack.
ANOTHER_PROCESS = textwrap.dedent(
    """
    import json, sys
    import django
    django.setup()
    from django.test import Client
    client = Client(HTTP_AUTHORIZATION="Token " + sys.argv[1])
    answers = [client.get(sys.argv[2], HTTP_HOST="localhost").status_code
               for _ in range(3)]
    print(json.dumps(answers))
    """
)


def run_another_process(token: str, *, rate: str) -> list[int]:
    database = connection.settings_dict
    credentials = database["USER"] + (
        f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    )
    # The test database, which this test commits to.
    url = (
        f"postgres://{credentials}@{database['HOST']}:{database['PORT'] or 5432}"
        f"/{database['NAME']}"
    )
    completed = subprocess.run(
        [sys.executable, "-c", ANOTHER_PROCESS, token, LIST_URL],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "customer_service.config.settings",
            "CUSTOMER_DATABASE_URL": url,
            "SHARED_DATABASE_URL": url,
            "API_THROTTLE_USER": rate,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_two_processes_add_to_one_count(throttle_rates):
    """Per-process counts (a locmem cache) would let each worker of a
    service grant the whole rate: here the second process sees the first's."""
    throttle_rates(user="4/min")
    token = staff_token()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    elsewhere = run_another_process(token, rate="4/min")
    here = [client.get(LIST_URL).status_code for _ in range(2)]

    assert elsewhere == [200, 200, 200]
    assert here == [200, 429]


# KEYS: THE SERVICE AND THE CLIENT AS ITS CREDENTIALS NAME IT
# ------------------------------------------------------------------------------


def key_of(user, service: str, settings) -> str:
    settings.SERVICE_NAME = service
    request = Request(RequestFactory().get(LIST_URL))
    request.user = user
    return UserRateThrottle().get_cache_key(request, None)


@pytest.mark.django_db
def test_a_key_names_the_service_and_the_user(settings):
    user = get_user_model().objects.create_user(username="learner")

    here = key_of(user, "customer", settings)
    there = key_of(user, "order", settings)

    assert here != there
    assert "customer" in here and f"user-{user.pk}" in here
    assert "order" in there


# REFUSED CREDENTIALS COUNT BY ADDRESS
# ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_requests_with_bad_credentials_are_counted_by_address(throttle_rates):
    throttle_rates(anon="3/min")
    guessing = APIClient()
    guessing.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    answers = [guessing.get(LIST_URL).status_code for _ in range(4)]

    assert answers == [401, 401, 401, 429]
    refused = guessing.get(LIST_URL)
    assert "throttled" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    # The address's anonymous budget is spent, not another address's.
    anonymous = {"username": "nobody", "password": "wrong"}
    assert APIClient().post(TOKEN_URL, anonymous).status_code == 429
    other = APIClient(REMOTE_ADDR="10.0.0.8")
    other.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert other.get(LIST_URL).status_code == 401


@pytest.mark.django_db
def test_a_bad_jwt_and_missing_credentials_are_counted_too(throttle_rates):
    throttle_rates(anon="2/min")
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")

    answers = [
        forged.get(LIST_URL).status_code,
        APIClient().get(LIST_URL).status_code,
        forged.get(LIST_URL).status_code,
    ]

    assert answers == [401, 401, 429]

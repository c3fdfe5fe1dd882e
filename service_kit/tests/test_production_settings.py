"""``DJANGO_ENV=production`` (``service_kit.settings.production``): HTTPS only
behind the gateway, health over plain HTTP, and ``check --deploy`` silent.

The check runs as a learner runs it, ``manage.py --service S check --deploy``
in a process of its own with a real-looking secret key from the environment;
the redirects are shown in process, under the production module's values.
"""

import importlib
import os
import secrets
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from service_kit.settings import production
from shared_events.configuration import REPO_DIR

pytestmark = pytest.mark.django_db


def production_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["DJANGO_ENV"] = "production"
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    # The checks call no AWS API: an endpoint named here keeps manage.py from
    # starting the local AWS daemon (under an event-driven approach), which
    # would outlive the test.
    env.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    return env


@pytest.mark.parametrize("service", ["customer", "order"])
def test_check_deploy_prints_no_warning_in_production(service):
    result = subprocess.run(
        [sys.executable, "manage.py", "--service", service, "check", "--deploy"]
        + ["--fail-level", "WARNING"],
        cwd=REPO_DIR,
        env=production_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


@pytest.fixture
def in_production(monkeypatch, settings):
    """The settings ``service_kit.settings.production`` gives under production."""
    monkeypatch.setenv("DJANGO_ENV", "production")
    module = importlib.reload(production)
    for name in dir(module):
        if name.isupper():
            setattr(settings, name, getattr(module, name))
    yield
    monkeypatch.delenv("DJANGO_ENV")
    importlib.reload(production)


def test_plain_http_is_redirected_to_https(in_production):
    response = APIClient().get(reverse("customer-list"))

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/api/customers/"


def test_health_answers_load_balancers_over_plain_http(in_production):
    response = APIClient().get(reverse("health"))

    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response


def test_https_through_the_gateway_is_served_with_hsts(in_production):
    staff = get_user_model().objects.create_user(username="operator", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff)}")

    response = client.get(reverse("customer-list"), HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == (
        "max-age=60; includeSubDomains; preload"
    )


def test_an_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("DJANGO_ENV", "prod")
    try:
        with pytest.raises(ImproperlyConfigured, match="DJANGO_ENV='prod' is not"):
            importlib.reload(production)
    finally:
        monkeypatch.delenv("DJANGO_ENV")
        importlib.reload(production)

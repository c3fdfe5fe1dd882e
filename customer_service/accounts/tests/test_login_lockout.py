"""Password guessing on the customer service: its login forms and its token
endpoint share one count per user name and per address (django-axes)."""

from django.urls import reverse
from rest_framework.test import APIClient

from service_kit.testing.login_lockout import (
    LIMIT,
    PASSWORD,
    LoginLockoutContract,
    sign_in,
)

TOKEN_URL = reverse("token-obtain")


def obtain(client: APIClient, password: str, address: str = "10.0.0.1"):
    return client.post(
        TOKEN_URL,
        {"username": "operator", "password": password},
        format="json",
        REMOTE_ADDR=address,
    )


class TestCustomerServiceLoginLockout(LoginLockoutContract):
    def test_the_token_endpoint_locks_out_with_a_json_429(self, operator):
        client = APIClient()

        answers = [obtain(client, "guess").status_code for _ in range(LIMIT)]
        right = obtain(client, PASSWORD)

        assert answers == [401] * (LIMIT - 1) + [429]
        assert right.status_code == 429
        assert "even with the right password" in right.json()["detail"]
        assert int(right["Retry-After"]) > 0
        assert "access" not in right.json()

    def test_failures_on_a_form_count_at_the_token_endpoint(self, client, operator):
        for _ in range(LIMIT):
            sign_in(client, "/admin/login/", "operator", "guess", "10.0.3.1")

        assert obtain(APIClient(), PASSWORD, address="10.0.3.2").status_code == 429

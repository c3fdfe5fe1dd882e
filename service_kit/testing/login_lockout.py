"""What every service's login forms promise about password guessing.

Each service's tests subclass :class:`LoginLockoutContract`, so both prove
it on their own forms (``/admin/login/`` and ``/api-auth/login/``) through
the real middleware and backends (``service_kit.settings.login_throttling``).
What a learner should notice: after the limit, the right password does not
sign in either, until the lockout ends; and a user name is counted apart from
the address, so neither many addresses nor many user names get around it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.utils import timezone

PASSWORD = "a long passphrase"
LIMIT = 3
LOGIN_FORMS = ["/admin/login/", "/api-auth/login/"]


def sign_in(client, form: str, username: str, password: str, address="10.0.0.1"):
    return client.post(
        form,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


class LoginLockoutContract:
    @pytest.fixture(autouse=True)
    def low_limit(self, settings):
        settings.AXES_FAILURE_LIMIT = LIMIT

    @pytest.fixture
    def operator(self, db):
        return get_user_model().objects.create_user(
            username="operator", password=PASSWORD, is_staff=True
        )

    @pytest.mark.parametrize("form", LOGIN_FORMS)
    def test_after_the_limit_the_right_password_waits_for_the_lockout_to_end(
        self, client, operator, form, settings
    ):
        answers = [
            sign_in(client, form, "operator", "guess").status_code for _ in range(LIMIT)
        ]
        right = sign_in(client, form, "operator", PASSWORD)

        assert answers == [200] * (LIMIT - 1) + [429]
        assert right.status_code == 429
        assert "even with the right password" in right.content.decode()
        assert int(right["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
        assert not signed_in(client)
        # The failures age past the lockout: the right password works again.
        AccessAttempt.objects.update(
            attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(1)
        )
        assert sign_in(client, form, "operator", PASSWORD).status_code == 302
        assert signed_in(client)

    def test_failures_from_one_address_lock_it_for_every_user_name(
        self, client, operator
    ):
        for username in ("root", "admin", "staff")[:LIMIT]:
            sign_in(client, "/admin/login/", username, "guess", address="10.0.0.9")

        locked = sign_in(client, "/admin/login/", "operator", PASSWORD, "10.0.0.9")
        elsewhere = sign_in(client, "/admin/login/", "operator", PASSWORD, "10.0.0.7")

        assert locked.status_code == 429
        assert elsewhere.status_code == 302

    def test_failures_for_one_user_name_lock_it_from_every_address(
        self, client, operator
    ):
        for host in range(LIMIT):
            sign_in(client, "/api-auth/login/", "operator", "guess", f"10.0.1.{host}")

        locked = sign_in(client, "/admin/login/", "operator", PASSWORD, "10.0.2.1")

        assert locked.status_code == 429
        assert not signed_in(client)

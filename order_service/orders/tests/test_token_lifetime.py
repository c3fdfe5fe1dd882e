"""How long a JWT lets a user in here, where no user table can say otherwise.

The order service verifies the customer service's JWTs by signature alone:
it cannot know that the user was deleted, deactivated or demoted since. The
token's short lifetime is the bound on that: an access token issued longer
ago than ``JWT_ACCESS_MINUTES`` (5 by default) is refused, whatever it claims.
"""

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from order_service.orders.tests.api_support import LIST_URL

pytestmark = pytest.mark.django_db


def staff_token(*, issued_ago: timedelta) -> AccessToken:
    """A staff user's access token as the customer service issued it then."""
    token = AccessToken()
    token["user_id"] = 7
    token["is_staff"] = True
    issued_at = timezone.now() - issued_ago
    token.set_iat(at_time=issued_at)
    token.set_exp(from_time=issued_at)  # the configured lifetime
    return token


def answer(token) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(LIST_URL).status_code


def test_a_token_is_accepted_for_five_minutes_then_refused():
    """A deleted user's token stops working here within five minutes."""
    assert answer(staff_token(issued_ago=timedelta(minutes=4))) == 200
    assert answer(staff_token(issued_ago=timedelta(minutes=6))) == 401


def test_a_token_from_another_issuer_is_refused():
    """Signed with the shared key but not by the customer service's name."""
    token = staff_token(issued_ago=timedelta(0))
    forged = jwt.encode(
        {**token.payload, "iss": "someone-else"},
        settings.SIMPLE_JWT["SIGNING_KEY"],
        algorithm="HS256",
    )

    assert answer(token) == 200
    assert answer(forged) == 401

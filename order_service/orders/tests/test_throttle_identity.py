"""The order service's own user 7 and the customer service's user 7 are two
clients with two counts.

The order service keeps users of its own (the admin, API tokens) numbered by
its database, while a JWT names a user of the customer service, which issued
it. A throttle keyed by the bare id would let either exhaust the other's
budget; keyed as each credential names its user, they never meet.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from order_service.orders.tests.api_support import LIST_URL
from service_kit.testing.tokens import jwt_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttle_counts(settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "user": "2/min",
        },
    }
    yield
    cache.clear()


def test_a_local_user_and_a_jwt_user_with_the_same_id_have_counts_of_their_own():
    local = get_user_model().objects.create_user(username="clerk", is_staff=True)
    by_token = APIClient()
    by_token.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=local).key}"
    )
    by_jwt = jwt_client(user_id=local.pk, is_staff=True)

    local_answers = [by_token.get(LIST_URL).status_code for _ in range(3)]
    jwt_answers = [by_jwt.get(LIST_URL).status_code for _ in range(3)]

    assert local_answers == [200, 200, 429]
    assert jwt_answers == [200, 200, 429]

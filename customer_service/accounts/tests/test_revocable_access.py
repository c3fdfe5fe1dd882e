"""Access that can be taken away: short access tokens, refresh tokens spent
once and revoked when the user is deleted, deactivated or demoted.

Every test signs in through the token endpoint and uses the tokens as a
client does. The customer service keeps the users, so it refuses a changed
user's access token at once; the order service only has the token's
lifetime (``order_service/orders/tests/test_token_lifetime.py``).
"""

import jwt
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from customer_service.accounts.models import CustomerAccount
from customer_service.customers.models import Customer

pytestmark = pytest.mark.django_db

LIST_URL = reverse("customer-list")
TOKEN_URL = reverse("token-obtain")
REFRESH_URL = reverse("token-refresh")
PASSWORD = "a long passphrase"


def claims(token: str) -> dict:
    return jwt.decode(token, settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])


def sign_in(username: str) -> dict:
    issued = APIClient().post(
        TOKEN_URL, {"username": username, "password": PASSWORD}, format="json"
    )
    assert issued.status_code == 200, issued.json()
    return issued.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(token: str):
    return APIClient().post(REFRESH_URL, {"refresh": token}, format="json")


@pytest.fixture
def operator():
    return get_user_model().objects.create_user(
        username="operator", password=PASSWORD, is_staff=True
    )


def make_customer(name: str) -> Customer:
    return Customer.objects.create(
        name=name, email=f"{name.lower()}@example.com", address=f"{name} Street"
    )


# LIFETIMES
# ------------------------------------------------------------------------------


def test_an_access_token_lives_minutes_and_a_refresh_token_a_day(operator):
    tokens = sign_in("operator")

    access, renewal = claims(tokens["access"]), claims(tokens["refresh"])
    assert access["exp"] - access["iat"] == 5 * 60
    assert renewal["exp"] - renewal["iat"] == 24 * 60 * 60
    assert access["iss"] == renewal["iss"] == "customer"


# REFUSED AT ONCE BY THIS SERVICE
# ------------------------------------------------------------------------------


def test_a_deleted_users_access_token_is_refused_at_once(operator):
    client = bearer(sign_in("operator")["access"])
    assert client.get(LIST_URL).status_code == 200

    operator.delete()

    refused = client.get(LIST_URL)
    assert refused.status_code == 401
    assert "deleted or deactivated" in refused.json()["detail"]


def test_a_deactivated_users_access_token_is_refused_at_once(operator):
    client = bearer(sign_in("operator")["access"])

    operator.is_active = False
    operator.save()

    assert client.get(LIST_URL).status_code == 401


def test_a_demoted_staff_users_access_token_is_refused_at_once(operator):
    client = bearer(sign_in("operator")["access"])

    operator.is_staff = False
    operator.save()

    refused = client.get(LIST_URL)
    assert refused.status_code == 401
    assert "rights changed" in refused.json()["detail"]


def test_a_relinked_customer_users_token_is_refused_at_once():
    ada, grace = make_customer("Ada"), make_customer("Grace")
    user = get_user_model().objects.create_user(username="ada", password=PASSWORD)
    CustomerAccount.objects.create(user=user, customer_id=ada.id)
    client = bearer(sign_in("ada")["access"])
    assert client.get(LIST_URL).status_code == 200

    CustomerAccount.objects.filter(user=user).update(customer_id=grace.id)

    assert client.get(LIST_URL).status_code == 401


# REFRESH
# ------------------------------------------------------------------------------


def test_refreshing_a_deleted_users_token_is_401(operator):
    tokens = sign_in("operator")

    operator.delete()

    refused = refresh(tokens["refresh"])
    assert refused.status_code == 401
    assert "detail" in refused.json()


def test_a_demoted_staff_user_cannot_refresh_into_staff(operator):
    """Demotion revokes every refresh token the user holds."""
    tokens = sign_in("operator")

    operator.is_staff = False
    operator.save()

    assert refresh(tokens["refresh"]).status_code == 401


def test_a_refresh_claims_what_the_user_is_now(operator):
    """Even a demotion that revokes nothing (a bulk update sends no signal)
    gives no staff token: the refresh reads the user, not the old claims."""
    tokens = sign_in("operator")

    get_user_model().objects.filter(pk=operator.pk).update(is_staff=False)

    refreshed = refresh(tokens["refresh"])
    assert refreshed.status_code == 200, refreshed.json()
    assert claims(refreshed.json()["access"])["is_staff"] is False
    assert claims(refreshed.json()["refresh"])["is_staff"] is False


def test_a_refresh_names_the_customer_the_user_is_linked_to_now():
    ada, grace = make_customer("Ada"), make_customer("Grace")
    user = get_user_model().objects.create_user(username="ada", password=PASSWORD)
    CustomerAccount.objects.create(user=user, customer_id=ada.id)
    tokens = sign_in("ada")

    CustomerAccount.objects.filter(user=user).update(customer_id=grace.id)

    refreshed = refresh(tokens["refresh"])
    assert refreshed.status_code == 200, refreshed.json()
    assert claims(refreshed.json()["access"])["customer_id"] == str(grace.id)


def test_a_refresh_token_works_once(operator):
    tokens = sign_in("operator")

    first = refresh(tokens["refresh"])
    again = refresh(tokens["refresh"])

    assert first.status_code == 200, first.json()
    assert again.status_code == 401
    # The new refresh token is the one that works now, once too.
    assert refresh(first.json()["refresh"]).status_code == 200
    assert bearer(first.json()["access"]).get(LIST_URL).status_code == 200


def test_revocation_outlives_a_reactivation(operator):
    """Deactivating revokes the refresh tokens; reactivating gives none back."""
    tokens = sign_in("operator")

    operator.is_active = False
    operator.save()
    operator.is_active = True
    operator.save()

    assert refresh(tokens["refresh"]).status_code == 401
    assert refresh(sign_in("operator")["refresh"]).status_code == 200


def test_a_new_password_revokes_the_refresh_tokens(operator):
    tokens = sign_in("operator")

    operator.set_password("another long passphrase")
    operator.save()

    assert refresh(tokens["refresh"]).status_code == 401


def test_signing_in_again_does_not_revoke_other_sessions(operator):
    """A save of last_login alone (each sign-in) takes nothing away."""
    tokens = sign_in("operator")
    operator.save(update_fields=["last_login"])
    sign_in("operator")

    refreshed = refresh(tokens["refresh"])
    assert refreshed.status_code == 200, refreshed.json()
    assert "refresh" in refreshed.json()  # rotated: a new one comes back

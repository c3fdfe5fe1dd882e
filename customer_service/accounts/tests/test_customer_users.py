"""A customer user sees and changes only its own customer; staff see every one.

Each test reaches the API the way a client does (a DRF token or a JWT in the
Authorization header). Another customer's record answers exactly as an
unknown id does: 404, or an empty list.
"""

import io
import uuid

import jwt
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customer_service.accounts.models import CustomerAccount
from customer_service.customers.models import Customer

pytestmark = pytest.mark.django_db

LIST_URL = reverse("customer-list")
REGISTER_URL = reverse("customer-register")
TOKEN_URL = reverse("token-obtain")
REFRESH_URL = reverse("token-refresh")
PASSWORD = "a long passphrase"


def url(name: str, customer_id, **extra) -> str:
    return reverse(name, kwargs={"customer_id": customer_id, **extra})


def make_customer(name: str) -> Customer:
    return Customer.objects.create(
        name=name, email=f"{name.lower()}@example.com", address=f"{name} Street"
    )


def customer_user(username: str, customer: Customer):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    CustomerAccount.objects.create(user=user, customer_id=customer.id)
    return user


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}"
    )
    return client


def jwt_client(username: str) -> APIClient:
    client = APIClient()
    issued = client.post(
        TOKEN_URL, {"username": username, "password": PASSWORD}, format="json"
    )
    assert issued.status_code == 200, issued.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.json()['access']}")
    return client


def claims(access: str) -> dict:
    return jwt.decode(access, settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])


@pytest.fixture
def ada():
    return make_customer("Ada")


@pytest.fixture
def grace():
    return make_customer("Grace")


@pytest.fixture(params=["token", "jwt"])
def ada_client(request, ada):
    """Ada's own user, signed in with a DRF token or with a JWT."""
    user = customer_user("ada-user", ada)
    return token_client(user) if request.param == "token" else jwt_client("ada-user")


# LISTS AND DETAILS
# ------------------------------------------------------------------------------


def test_a_customer_user_lists_only_its_own_customer(ada_client, ada, grace):
    response = ada_client.get(LIST_URL)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(ada.id)]


def test_filtering_the_list_by_another_customers_id_finds_nothing(
    ada_client, ada, grace
):
    response = ada_client.get(LIST_URL, {"ids": f"{grace.id}"})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_staff_list_every_customer(api_client, ada, grace):
    response = api_client.get(LIST_URL)

    assert {row["id"] for row in response.json()["results"]} == {
        str(ada.id),
        str(grace.id),
    }


def test_a_customer_user_reads_its_own_record(ada_client, ada):
    response = ada_client.get(url("customer-detail", ada.id))

    assert response.status_code == 200
    assert response.json()["name"] == "Ada"


def test_another_customers_record_is_404_like_an_unknown_id(ada_client, grace):
    other = ada_client.get(url("customer-detail", grace.id))
    unknown = ada_client.get(url("customer-detail", uuid.uuid4()))

    assert other.status_code == unknown.status_code == 404
    assert other.json() == unknown.json()


# COMMANDS
# ------------------------------------------------------------------------------


def test_a_customer_user_changes_its_own_record(ada_client, ada):
    response = ada_client.post(
        url("customer-update", ada.id), {"address": "Ockham Park"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert Customer.objects.get(id=ada.id).address == "Ockham Park"


def test_changing_another_customers_record_is_404_and_changes_nothing(
    ada_client, grace
):
    response = ada_client.post(
        url("customer-update", grace.id), {"name": "Mallory"}, format="json"
    )

    assert response.status_code == 404
    assert Customer.objects.get(id=grace.id).name == "Grace"


def test_deleting_another_customer_is_404_and_deletes_nothing(ada_client, grace):
    response = ada_client.post(url("customer-delete", grace.id), {}, format="json")

    assert response.status_code == 404
    assert Customer.objects.filter(id=grace.id).exists()


def test_a_customer_user_may_not_register_customers(ada_client):
    response = ada_client.post(
        REGISTER_URL,
        {"name": "Eve", "email": "eve@example.com", "address": "Nowhere"},
        format="json",
    )

    assert response.status_code == 403
    assert "staff" in response.json()["detail"]
    assert not Customer.objects.filter(email="eve@example.com").exists()


def test_a_user_neither_staff_nor_linked_is_refused_with_the_reason(ada):
    stranger = get_user_model().objects.create_user(username="stranger")
    client = token_client(stranger)

    for response in (
        client.get(LIST_URL),
        client.get(url("customer-detail", ada.id)),
        client.post(url("customer-update", ada.id), {"name": "X"}, format="json"),
    ):
        assert response.status_code == 403
        assert "linked to a customer" in response.json()["detail"]
    assert Customer.objects.get(id=ada.id).name == "Ada"


def test_unauthenticated_is_401_before_any_scope(anonymous_client, ada):
    assert anonymous_client.get(LIST_URL).status_code == 401
    assert anonymous_client.get(url("customer-detail", ada.id)).status_code == 401


# HISTORY (event sourcing)
# ------------------------------------------------------------------------------


@pytest.fixture
def ada_recorded(api_client, event_sourcing):
    """A customer registered and changed through the API: two events."""
    response = api_client.post(
        REGISTER_URL,
        {"name": "Ada", "email": "ada@example.com", "address": "London"},
        format="json",
    )
    customer_id = response.json()["id"]
    api_client.post(
        url("customer-update", customer_id), {"name": "Ada L."}, format="json"
    )
    return Customer.objects.get(id=customer_id)


def test_history_is_the_customers_own(ada_recorded):
    grace = make_customer("Grace")
    own = token_client(customer_user("ada-user", ada_recorded))
    other = token_client(customer_user("grace-user", grace))

    assert own.get(url("customer-history", ada_recorded.id)).status_code == 200
    assert own.get(url("customer-as-of", ada_recorded.id, version=1)).json()[
        "name"
    ] == ("Ada")
    assert other.get(url("customer-history", ada_recorded.id)).status_code == 404
    # Even a version never reached says nothing more than "not found".
    beyond = other.get(url("customer-as-of", ada_recorded.id, version=99))
    assert beyond.status_code == 404
    assert "version" not in beyond.json()["detail"]


# JWT CLAIMS
# ------------------------------------------------------------------------------


def test_a_customer_users_jwt_names_its_customer(ada):
    customer_user("ada-user", ada)
    issued = APIClient().post(
        TOKEN_URL, {"username": "ada-user", "password": PASSWORD}, format="json"
    )

    access = claims(issued.json()["access"])
    assert access["customer_id"] == str(ada.id)
    assert access["is_staff"] is False


def test_a_refreshed_jwt_keeps_the_customer(ada):
    customer_user("ada-user", ada)
    client = APIClient()
    issued = client.post(
        TOKEN_URL, {"username": "ada-user", "password": PASSWORD}, format="json"
    )
    refreshed = client.post(
        REFRESH_URL, {"refresh": issued.json()["refresh"]}, format="json"
    )

    assert refreshed.status_code == 200
    assert claims(refreshed.json()["access"])["customer_id"] == str(ada.id)


def test_a_staff_jwt_says_staff_and_names_no_customer():
    get_user_model().objects.create_user(
        username="operator", password=PASSWORD, is_staff=True
    )
    issued = APIClient().post(
        TOKEN_URL, {"username": "operator", "password": PASSWORD}, format="json"
    )

    access = claims(issued.json()["access"])
    assert access["is_staff"] is True
    assert "customer_id" not in access


# create_customer_user
# ------------------------------------------------------------------------------


def test_create_customer_user_links_a_user_and_prints_its_credentials(ada, grace):
    out = io.StringIO()
    call_command(
        "create_customer_user", "--customer", str(ada.id), "--username", "ada",
        stdout=out,
    )  # fmt: skip

    jwt_line = next(line for line in out.getvalue().splitlines() if "JWT" in line)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt_line.rsplit(' ', 1)[-1]}")
    response = client.get(LIST_URL)
    assert [row["id"] for row in response.json()["results"]] == [str(ada.id)]


def test_create_customer_user_relinks_an_existing_user(ada, grace):
    customer_user("ada-user", ada)

    call_command(
        "create_customer_user", "--customer", str(grace.id), "--username",
        "ada-user", "--quiet",
    )  # fmt: skip

    assert CustomerAccount.objects.get(user__username="ada-user").customer_id == (
        grace.id
    )


@pytest.mark.parametrize(
    ("customer", "username", "message"),
    [
        ("not-a-uuid", "someone", "is not a UUID"),
        (str(uuid.uuid4()), "someone", "no customer with id"),
        (None, "operator", "is staff"),
    ],
)
def test_create_customer_user_refuses_bad_input_and_creates_nothing(
    ada, customer, username, message
):
    get_user_model().objects.create_user(username="operator", is_staff=True)
    users_before = get_user_model().objects.count()

    with pytest.raises(CommandError, match=message):
        call_command(
            "create_customer_user", "--customer", customer or str(ada.id),
            "--username", username, "--quiet",
        )  # fmt: skip

    assert get_user_model().objects.count() == users_before
    assert not CustomerAccount.objects.exists()

"""The customer fragments through real authentication (JWTs), under a state
table and under the event store (the ``approach`` fixture): each answers the
fragment contract (``service_kit.fragments``) and what the JSON API answers.
"""

import uuid

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from customer_service.accounts.services import customer_user_link
from customer_service.customers.models import Customer
from customer_service.customers.selectors import customer_list
from customer_service.customers.services import customer_register
from customer_service.ui import FRAGMENT_VERSION, GATEWAY_PATH
from service_kit.access import EVERY_CUSTOMER, access_token_for
from service_kit.testing.fragments import post_form, read_fragment

pytestmark = pytest.mark.django_db

LIST_URL = "/api/ui/customers/"
REGISTER_URL = "/api/ui/customers/register/"


def detail_url(customer_id) -> str:
    return f"/api/ui/customers/{customer_id}/"


def fragment(response, name: str, status: int = 200):
    return read_fragment(
        response,
        status=status,
        service="customer",
        name=name,
        version=FRAGMENT_VERSION,
    )


def bearer_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
    return client


def register(name: str, email: str) -> Customer:
    return customer_register(name=name, email=email, address="1 Main Street")


@pytest.fixture
def staff(user) -> APIClient:
    return bearer_client(user)


@pytest.fixture
def ada(approach) -> Customer:
    return register("Ada Lovelace", "ada@example.com")


@pytest.fixture
def grace(approach) -> Customer:
    return register("Grace Hopper", "grace@example.com")


@pytest.fixture
def ada_user(ada) -> APIClient:
    """Ada's own user (not staff), signed in with a JWT."""
    return bearer_client(customer_user_link(username="ada", customer_id=ada.id))


def hx_gets(parsed) -> set[str]:
    return {attributes["hx-get"] for attributes in parsed.hx if "hx-get" in attributes}


# LIST
# ------------------------------------------------------------------------------


def test_the_list_shows_every_customer_to_staff(staff, ada, grace):
    parsed = fragment(staff.get(LIST_URL), "customer-list")

    assert parsed.tables == 1 and parsed.header_cells >= 4 + 2  # columns, rows
    details = {f"{GATEWAY_PATH}{c.id}/" for c in (ada, grace)}
    assert details <= hx_gets(parsed)
    assert f"{GATEWAY_PATH}register/" in hx_gets(parsed)
    for attributes in parsed.hx:
        assert attributes["hx-target"] == "closest .fragment"
        assert attributes["hx-swap"] == "outerHTML"


def test_a_customer_user_lists_only_its_own_customer(ada_user, ada, grace):
    parsed = fragment(ada_user.get(LIST_URL), "customer-list")

    assert f"{GATEWAY_PATH}{ada.id}/" in hx_gets(parsed)
    assert f"{GATEWAY_PATH}{grace.id}/" not in hx_gets(parsed)


def test_the_list_pages_on_the_gateways_path(staff, ada, grace):
    first = fragment(staff.get(LIST_URL, {"limit": 1}), "customer-list")
    second = fragment(staff.get(LIST_URL, {"limit": 1, "offset": 1}), "customer-list")

    assert f"{GATEWAY_PATH}?limit=1&offset=1" in hx_gets(first)
    assert f"{GATEWAY_PATH}{ada.id}/" in hx_gets(first)
    assert f"{GATEWAY_PATH}{grace.id}/" in hx_gets(second)
    assert f"{GATEWAY_PATH}?limit=1&offset=0" in hx_gets(second)


def test_an_empty_list_says_so(staff, approach):
    response = staff.get(LIST_URL)

    parsed = fragment(response, "customer-list")
    assert parsed.tables == 0
    assert "No customers to show." in response.content.decode()


# DETAIL
# ------------------------------------------------------------------------------


def test_the_detail_shows_the_customer(staff, ada):
    response = staff.get(detail_url(ada.id))

    parsed = fragment(response, "customer-detail")
    assert parsed.root["data-customer-id"] == str(ada.id)
    html = response.content.decode()
    assert "Ada Lovelace" in html and "ada@example.com" in html


def test_an_unknown_customer_is_a_404_fragment(staff, approach):
    response = staff.get(detail_url(uuid.uuid4()))

    parsed = fragment(response, "customer-detail", status=404)
    assert parsed.root["data-fragment-status"] == "404"
    assert parsed.alerts == ["Not found."]


def test_another_customer_is_refused_as_the_json_api_refuses_it(ada_user, grace):
    json_answer = ada_user.get(f"/api/customers/{grace.id}/")
    response = ada_user.get(detail_url(grace.id))

    assert json_answer.status_code == 404
    parsed = fragment(response, "customer-detail", status=404)
    assert parsed.alerts == [json_answer.json()["detail"]]
    assert "Grace" not in response.content.decode()


# AUTHENTICATION
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "name"),
    [
        ("get", LIST_URL, "customer-list"),
        ("get", detail_url(uuid.uuid4()), "customer-detail"),
        ("get", REGISTER_URL, "customer-register"),
        ("post", REGISTER_URL, "customer-register"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer not.a.jwt"])
def test_without_a_valid_token_every_fragment_is_a_401(
    db, method, url, name, authorization
):
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    response = getattr(client, method)(url)

    parsed = fragment(response, name, status=401)
    assert response["WWW-Authenticate"]
    assert parsed.alerts
    assert not Customer.objects.exists()


# REGISTER
# ------------------------------------------------------------------------------

VALID = {"name": "Ada Lovelace", "email": "ada@example.com", "address": "1 Main St"}


def test_the_register_form_is_an_htmx_form_with_labels(staff):
    parsed = fragment(staff.get(REGISTER_URL), "customer-register")

    assert set(parsed.input_names) == {"name", "email", "address"}
    (form,) = [a for a in parsed.hx if "hx-post" in a]
    assert form["hx-post"] == f"{GATEWAY_PATH}register/"
    assert form["hx-target"] == "closest .fragment"
    assert form["hx-swap"] == "outerHTML"
    assert "Register" in parsed.buttons


def test_registering_answers_the_new_customers_detail(staff, approach):
    response = post_form(staff, REGISTER_URL, VALID)

    parsed = fragment(response, "customer-detail", status=201)
    (customer,) = customer_list(scope=EVERY_CUSTOMER)
    assert parsed.root["data-customer-id"] == str(customer.id)
    assert (customer.name, customer.email, customer.version) == (
        "Ada Lovelace",
        "ada@example.com",
        1,
    )


def test_invalid_input_is_a_400_with_each_fields_error_beside_it(staff, approach):
    sent = {"name": "Ada", "email": "not-an-email", "address": ""}

    response = post_form(staff, REGISTER_URL, sent)

    parsed = fragment(response, "customer-register", status=400)
    assert set(parsed.errors) == {"email", "address"}
    assert "valid email" in parsed.errors["email"]
    assert parsed.input_names == sent  # what was typed is kept
    assert not Customer.objects.exists()


def test_a_missing_field_is_named(staff, approach):
    response = post_form(staff, REGISTER_URL, {"name": "Ada", "email": "a@b.example"})

    parsed = fragment(response, "customer-register", status=400)
    assert set(parsed.errors) == {"address"}


def test_a_taken_email_is_refused_on_the_email_field(staff, ada):
    response = post_form(staff, REGISTER_URL, {**VALID, "email": "ADA@example.com"})

    parsed = fragment(response, "customer-register", status=400)
    assert set(parsed.errors) == {"email"}
    assert Customer.objects.count() == 1


def test_a_customer_user_may_not_register_as_the_json_api_says(ada_user, ada):
    json_answer = ada_user.post("/api/customers/register/", VALID, format="json")
    response = post_form(ada_user, REGISTER_URL, {**VALID, "email": "x@example.com"})

    assert json_answer.status_code == 403
    parsed = fragment(response, "customer-register", status=403)
    assert parsed.alerts == [json_answer.json()["detail"]]
    assert Customer.objects.count() == 1


def test_the_fragments_are_not_part_of_the_json_apis_schema(staff):
    schema = staff.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert schema.status_code == 200
    assert not [path for path in schema.json()["paths"] if "/ui/" in path]


def test_a_user_with_no_customer_is_refused_with_the_reason(db):
    nobody = get_user_model().objects.create_user(username="nobody", password=None)

    response = bearer_client(nobody).get(LIST_URL)

    parsed = fragment(response, "customer-list", status=403)
    assert "neither staff nor linked" in parsed.alerts[0]


@pytest.mark.parametrize(
    "body", [[], "text", {"name": ["a"], "email": {"x": 1}, "address": None}]
)
def test_an_odd_json_body_is_a_400_form_never_a_500(staff, approach, body):
    response = staff.post(REGISTER_URL, body, format="json")

    parsed = fragment(response, "customer-register", status=400)
    assert parsed.errors or parsed.alerts  # a field's error, or the body's
    assert not Customer.objects.exists()


def test_a_nul_byte_is_refused_on_its_field(staff, approach):
    response = post_form(staff, REGISTER_URL, {**VALID, "name": "nul\x00byte"})

    parsed = fragment(response, "customer-register", status=400)
    assert set(parsed.errors) == {"name"}


@pytest.mark.parametrize(
    ("method", "url", "name"),
    [
        ("put", LIST_URL, "customer-list"),
        ("options", LIST_URL, "customer-list"),
        ("delete", REGISTER_URL, "customer-register"),
        ("post", detail_url(uuid.uuid4()), "customer-detail"),
    ],
)
def test_another_method_is_a_405_fragment(staff, method, url, name):
    response = getattr(staff, method)(url)

    parsed = fragment(response, name, status=405)
    assert parsed.alerts


def test_head_answers_as_get_without_a_body(staff, ada):
    response = staff.head(LIST_URL)

    assert response.status_code == 200
    assert response["X-Fragment-Version"] == FRAGMENT_VERSION

"""The customer service's HTTP API, endpoint by endpoint, through real auth."""

import uuid

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from customer_service.customers.models import Customer
from customer_service.customers.tests.api_support import (
    LIST_URL,
    REGISTER_URL,
    delete_url,
    detail_url,
    make_customer,
    update_url,
    valid_registration,
)
from service_kit.testing.write_api import Endpoint, WriteApiContract

pytestmark = pytest.mark.django_db


def service_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {token}")
    return client


class TestCustomerApi(WriteApiContract):
    """What every service's write API answers (``service_kit.testing.write_api``)."""

    service = "customer"
    model = Customer
    list_url = LIST_URL
    create_url = REGISTER_URL
    detail_route = detail_url
    endpoints = [
        Endpoint("/api/customers/", "get", ("post",)),
        Endpoint("/api/customers/register/", "post", ("get",)),
        Endpoint("/api/customers/{customer_id}/", "get", ("delete", "put")),
        Endpoint("/api/customers/{customer_id}/update/", "post", ("get", "patch")),
        Endpoint("/api/customers/{customer_id}/delete/", "post", ("get", "delete")),
    ]
    list_filters = {"ids", "email"}

    @pytest.fixture
    def creation(self) -> dict:
        return valid_registration()

    @pytest.fixture
    def listed(self) -> list[uuid.UUID]:
        return [make_customer(email=f"c{n}@example.com").id for n in range(3)]


# REGISTER
# ------------------------------------------------------------------------------


def test_register_creates_the_customer(api_client):
    response = api_client.post(REGISTER_URL, valid_registration(), format="json")

    assert response.status_code == 201
    body = response.json()
    customer = Customer.objects.get()
    assert body == {
        "id": str(customer.id),
        "version": 1,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "address": "12 Analytical Row, London",
        "credit_limit": "1000000.00",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert (customer.name, customer.email, customer.address) == (
        "Ada Lovelace",
        "ada@example.com",
        "12 Analytical Row, London",
    )


def test_register_trims_surrounding_whitespace(api_client):
    response = api_client.post(
        REGISTER_URL,
        valid_registration(name="  Ada  ", email=" ada@example.com "),
        format="json",
    )

    assert response.status_code == 201
    customer = Customer.objects.get()
    assert (customer.name, customer.email) == ("Ada", "ada@example.com")


@pytest.mark.parametrize("field", ["name", "email", "address"])
def test_register_refuses_a_missing_field(api_client, field):
    data = valid_registration()
    del data[field]

    response = api_client.post(REGISTER_URL, data, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "   "),
        ("name", "x" * 201),
        ("email", "not-an-email"),
        ("email", None),
        ("address", "x" * 501),
        ("name", "nul\x00byte"),
    ],
)
def test_register_refuses_an_invalid_field(api_client, field, value):
    response = api_client.post(
        REGISTER_URL, valid_registration(**{field: value}), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@Example.COM"])
def test_register_refuses_an_email_already_taken_in_any_case(api_client, email):
    make_customer(email="ada@example.com")

    response = api_client.post(
        REGISTER_URL, valid_registration(email=email), format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"email": ["a customer with this email already exists"]}
    assert Customer.objects.count() == 1


# LIST
# ------------------------------------------------------------------------------


def test_list_returns_every_customer_oldest_first(api_client):
    first = make_customer(email="first@example.com")
    second = make_customer(email="second@example.com")

    response = api_client.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [str(first.id), str(second.id)]
    assert body["results"][0]["email"] == "first@example.com"


def test_list_filters_by_ids(api_client):
    wanted = [make_customer(email=f"w{n}@example.com") for n in range(2)]
    make_customer(email="other@example.com")

    response = api_client.get(
        LIST_URL, {"ids": f"{wanted[0].id}, {wanted[1].id},,{uuid.uuid4()}"}
    )

    assert response.status_code == 200
    assert {item["id"] for item in response.json()["results"]} == {
        str(customer.id) for customer in wanted
    }


def test_list_accepts_one_hundred_ids(api_client):
    customer = make_customer()
    ids = [str(customer.id)] + [str(uuid.uuid4()) for _ in range(99)]

    response = api_client.get(LIST_URL, {"ids": ",".join(ids)})

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_list_refuses_more_than_one_hundred_ids(api_client):
    ids = ",".join(str(uuid.uuid4()) for _ in range(101))

    response = api_client.get(LIST_URL, {"ids": ids})

    assert response.status_code == 400
    assert list(response.json()) == ["ids"]


def test_list_refuses_a_malformed_id(api_client):
    response = api_client.get(LIST_URL, {"ids": f"{uuid.uuid4()},not-a-uuid"})

    assert response.status_code == 400
    assert response.json() == {"ids": {"1": ["Must be a valid UUID."]}}


def test_list_filters_by_email_in_any_case(api_client):
    ada = make_customer(email="ada@example.com")
    make_customer(email="grace@example.com")

    response = api_client.get(LIST_URL, {"email": "ADA@example.com"})

    assert [item["id"] for item in response.json()["results"]] == [str(ada.id)]


@pytest.mark.parametrize("email", ["not-an-email", ""])
def test_list_refuses_an_invalid_email_filter(api_client, email):
    response = api_client.get(LIST_URL, {"email": email})

    assert response.status_code == 400
    assert list(response.json()) == ["email"]


# DETAIL
# ------------------------------------------------------------------------------


def test_detail_returns_the_customer(api_client):
    customer = make_customer()

    response = api_client.get(detail_url(customer.id))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(customer.id)
    assert (body["name"], body["email"], body["address"]) == (
        customer.name,
        customer.email,
        customer.address,
    )


# UPDATE
# ------------------------------------------------------------------------------


def test_update_changes_only_the_given_fields(api_client):
    customer = make_customer()

    response = api_client.post(
        update_url(customer.id), {"name": "Countess Lovelace"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Countess Lovelace"
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.address) == (
        "Countess Lovelace",
        "ada@example.com",
        "12 Analytical Row, London",
    )


def test_update_may_change_the_case_of_the_customers_own_email(api_client):
    customer = make_customer(email="ada@example.com")

    response = api_client.post(
        update_url(customer.id), {"email": "Ada@Example.com"}, format="json"
    )

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.email == "Ada@Example.com"


def test_update_refuses_another_customers_email_in_any_case(api_client):
    make_customer(email="grace@example.com")
    customer = make_customer(email="ada@example.com")

    response = api_client.post(
        update_url(customer.id), {"email": "GRACE@example.com"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"email": ["a customer with this email already exists"]}
    customer.refresh_from_db()
    assert customer.email == "ada@example.com"


def test_update_refuses_an_empty_change(api_client):
    customer = make_customer()

    response = api_client.post(update_url(customer.id), {}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["give at least one of name, email, address"]
    }


@pytest.mark.parametrize(
    ("field", "value"), [("email", "nope"), ("name", ""), ("address", "x" * 501)]
)
def test_update_refuses_an_invalid_field(api_client, field, value):
    customer = make_customer()

    response = api_client.post(update_url(customer.id), {field: value}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    customer.refresh_from_db()
    assert customer.name == "Ada Lovelace"


def test_update_of_an_unknown_id_is_404(api_client):
    response = api_client.post(update_url(uuid.uuid4()), {"name": "X"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# DELETE
# ------------------------------------------------------------------------------


def test_delete_removes_the_customer(api_client):
    customer = make_customer()

    response = api_client.post(delete_url(customer.id))

    assert response.status_code == 204
    assert not Customer.objects.filter(id=customer.id).exists()


def test_deleting_twice_is_404_the_second_time(api_client):
    customer = make_customer()
    api_client.post(delete_url(customer.id))

    response = api_client.post(delete_url(customer.id))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# METHODS AND AUTHENTICATION
# ------------------------------------------------------------------------------


def test_a_wrong_method_without_credentials_is_401_not_405(anonymous_client):
    response = anonymous_client.delete(LIST_URL)

    assert response.status_code == 401


def test_the_service_token_reads_customers():
    customer = make_customer()
    client = service_client(settings.CUSTOMER_SERVICE_TOKEN)

    listing = client.get(LIST_URL, {"ids": str(customer.id)})
    detail = client.get(detail_url(customer.id))

    assert [item["id"] for item in listing.json()["results"]] == [str(customer.id)]
    assert detail.json()["email"] == customer.email


def test_the_service_token_also_renders_the_browsable_api():
    make_customer()
    client = service_client(settings.CUSTOMER_SERVICE_TOKEN)

    response = client.get(LIST_URL, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert b"ada@example.com" in response.content


@pytest.mark.parametrize(
    "header",
    [
        "Service wrong-token",
        "Service",
        "Service two parts",
        "Service t\u00f6ken",
    ],
)
def test_wrong_or_malformed_service_credentials_are_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(LIST_URL)

    assert response.status_code == 401
    assert response.has_header("WWW-Authenticate")
    assert not response.json()["detail"].startswith("Authentication credentials")


@pytest.mark.parametrize(
    ("url", "data"),
    [
        (REGISTER_URL, valid_registration(email="svc@example.com")),
        ("update", {"name": "Changed by a service"}),
        ("delete", {}),
    ],
)
def test_the_service_token_is_read_only(url, data):
    customer = make_customer()
    url = {"update": update_url(customer.id), "delete": delete_url(customer.id)}.get(
        url, url
    )
    client = service_client(settings.CUSTOMER_SERVICE_TOKEN)

    response = client.post(url, data, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "service credentials are read-only"}
    customer.refresh_from_db()
    assert customer.name == "Ada Lovelace"
    assert Customer.objects.count() == 1


# HEALTH, SCHEMA, DOCS
# ------------------------------------------------------------------------------


def test_health_ignores_bad_credentials():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token bogus")

    assert client.get("/api/health/").status_code == 200


def test_health_reports_a_database_outage_as_503(anonymous_client, monkeypatch):
    from django.db import OperationalError

    from service_kit.api import health

    class BrokenConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connections", {"default": BrokenConnection()})

    response = anonymous_client.get("/api/health/")

    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["database"] == "unavailable: OperationalError"


def test_the_schema_documents_the_service_token(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    assert "serviceToken" in schema["components"]["securitySchemes"]


def test_the_schema_tells_register_and_update_bodies_apart(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    def required_fields(path):
        body = schema["paths"][path]["post"]["requestBody"]
        reference = body["content"]["application/json"]["schema"]["$ref"]
        component = schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]
        return set(component.get("required", []))

    assert required_fields("/api/customers/register/") == {"name", "email", "address"}
    assert required_fields("/api/customers/{customer_id}/update/") == set()

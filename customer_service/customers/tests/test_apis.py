"""The customer service's HTTP API, endpoint by endpoint, through real auth."""

import uuid

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from customer_service.customers.models import Customer

pytestmark = pytest.mark.django_db

LIST_URL = reverse("customer-list")
REGISTER_URL = reverse("customer-register")


def detail_url(customer_id) -> str:
    return reverse("customer-detail", kwargs={"customer_id": customer_id})


def update_url(customer_id) -> str:
    return reverse("customer-update", kwargs={"customer_id": customer_id})


def delete_url(customer_id) -> str:
    return reverse("customer-delete", kwargs={"customer_id": customer_id})


def valid_registration(**overrides) -> dict:
    return {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "address": "12 Analytical Row, London",
        **overrides,
    }


def make_customer(**overrides) -> Customer:
    return Customer.objects.create(**valid_registration(**overrides))


def service_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {token}")
    return client


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


def test_register_refuses_a_malformed_json_body(api_client):
    response = api_client.post(
        REGISTER_URL, '{"name": "Ada",', content_type="application/json"
    )

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert not Customer.objects.exists()


def test_register_refuses_a_body_that_is_not_an_object(api_client):
    response = api_client.post(REGISTER_URL, [valid_registration()], format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


def test_register_refuses_a_form_encoded_body(api_client):
    response = api_client.post(
        REGISTER_URL,
        "name=Ada&email=ada%40example.com&address=London",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415
    assert "application/x-www-form-urlencoded" in response.json()["detail"]
    assert not Customer.objects.exists()


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


def test_list_is_paginated_by_limit_and_offset(api_client):
    customers = [make_customer(email=f"c{n}@example.com") for n in range(3)]

    response = api_client.get(LIST_URL, {"limit": 1, "offset": 1})

    body = response.json()
    assert body["count"] == 3
    assert [item["id"] for item in body["results"]] == [str(customers[1].id)]
    assert body["next"] is not None
    assert body["previous"] is not None


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


def test_detail_of_an_unknown_id_is_404(api_client):
    response = api_client.get(detail_url(uuid.uuid4()))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_malformed_id_in_the_path_is_a_json_404(api_client):
    response = api_client.get("/api/customers/not-a-uuid/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


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

SOME_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
ENDPOINTS = [
    ("get", LIST_URL),
    ("post", REGISTER_URL),
    ("get", detail_url(SOME_ID)),
    ("post", update_url(SOME_ID)),
    ("post", delete_url(SOME_ID)),
]
WRONG_METHODS = [
    ("post", LIST_URL),
    ("get", REGISTER_URL),
    ("delete", detail_url(SOME_ID)),
    ("put", detail_url(SOME_ID)),
    ("get", update_url(SOME_ID)),
    ("patch", update_url(SOME_ID)),
    ("get", delete_url(SOME_ID)),
    ("delete", delete_url(SOME_ID)),
]


@pytest.mark.parametrize(("method", "url"), WRONG_METHODS)
def test_a_wrong_method_is_405(api_client, method, url):
    response = getattr(api_client, method)(url)

    assert response.status_code == 405
    assert method.upper() in response.json()["detail"]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_every_customer_endpoint_needs_credentials(anonymous_client, method, url):
    response = getattr(anonymous_client, method)(url, {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_an_unknown_user_token_is_401(anonymous_client):
    anonymous_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    response = anonymous_client.get(LIST_URL)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


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


def test_health_is_open_without_credentials(anonymous_client):
    response = anonymous_client.get("/api/health/")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "service": "customer",
        "approach": settings.ARCHITECTURE_APPROACH,
        "database": "ok",
        "databases": {"default": "ok"},
    }


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


def test_health_refuses_a_post(anonymous_client):
    assert anonymous_client.post("/api/health/").status_code == 405


def test_the_schema_documents_every_customer_endpoint(anonymous_client):
    response = anonymous_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/customers/",
        "/api/customers/register/",
        "/api/customers/{customer_id}/",
        "/api/customers/{customer_id}/update/",
        "/api/customers/{customer_id}/delete/",
        "/api/health/",
    } <= set(paths)


def test_the_schema_documents_the_paginated_list_envelope(anonymous_client):
    schema = anonymous_client.get("/api/schema/", {"format": "json"}).json()

    ok = schema["paths"]["/api/customers/"]["get"]["responses"]["200"]
    reference = ok["content"]["application/json"]["schema"]["$ref"]
    envelope = schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    assert {"count", "next", "previous", "results"} <= set(envelope["properties"])
    parameters = {
        p["name"] for p in schema["paths"]["/api/customers/"]["get"]["parameters"]
    }
    assert {"ids", "email", "limit", "offset"} <= parameters


def test_the_schema_documents_the_service_token(anonymous_client):
    schema = anonymous_client.get("/api/schema/", {"format": "json"}).json()

    assert "serviceToken" in schema["components"]["securitySchemes"]


def test_the_docs_page_points_at_the_schema(anonymous_client):
    response = anonymous_client.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"/api/schema/" in response.content


def test_the_schema_generates_without_warnings_and_validates():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_the_schema_tells_register_and_update_bodies_apart(anonymous_client):
    schema = anonymous_client.get("/api/schema/", {"format": "json"}).json()

    def required_fields(path):
        body = schema["paths"][path]["post"]["requestBody"]
        reference = body["content"]["application/json"]["schema"]["$ref"]
        component = schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]
        return set(component.get("required", []))

    assert required_fields("/api/customers/register/") == {"name", "email", "address"}
    assert required_fields("/api/customers/{customer_id}/update/") == set()

"""The order service's HTTP API, endpoint by endpoint, through real auth.

The customer service is played by ``FakeCustomerDirectory`` (see conftest).
"""

import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from order_service.orders.customers import CustomerSnapshot
from order_service.orders.models import Order, OrderLine, OrderStatus
from order_service.orders.services import LineRequest, order_place

pytestmark = pytest.mark.django_db

LIST_URL = reverse("order-list")
PLACE_URL = reverse("order-place")


def detail_url(order_id) -> str:
    return reverse("order-detail", kwargs={"order_id": order_id})


def cancel_url(order_id) -> str:
    return reverse("order-cancel", kwargs={"order_id": order_id})


@pytest.fixture
def ada(customer_directory) -> CustomerSnapshot:
    return customer_directory.add(
        CustomerSnapshot(id=uuid.uuid4(), name="Ada Lovelace", email="ada@example.com")
    )


@pytest.fixture
def grace(customer_directory) -> CustomerSnapshot:
    return customer_directory.add(
        CustomerSnapshot(
            id=uuid.uuid4(), name="Grace Hopper", email="grace@example.com"
        )
    )


def line(**overrides) -> dict:
    return {"sku": "BOOK-1", "quantity": 1, "unit_price": "10.00", **overrides}


def placement(customer, **overrides) -> dict:
    return {"customer_id": str(customer.id), "lines": [line()], **overrides}


def place(customer, *lines: LineRequest) -> Order:
    return order_place(
        customer_id=customer.id,
        lines=lines or [LineRequest(sku="BOOK-1", quantity=1, unit_price=Decimal(1))],
    ).order


# PLACE
# ------------------------------------------------------------------------------


def test_place_creates_the_order_with_its_lines(api_client, ada):
    response = api_client.post(
        PLACE_URL,
        placement(
            ada,
            lines=[
                line(sku="BOOK-1", quantity=3, unit_price="19.99"),
                line(sku="PEN-7", quantity=2, unit_price="0.10"),
            ],
        ),
        format="json",
    )

    assert response.status_code == 201
    order = Order.objects.get()
    body = response.json()
    assert body == {
        "id": str(order.id),
        "version": 1,
        "customer_id": str(ada.id),
        "customer_name": "Ada Lovelace",
        "status": "placed",
        "total": "60.17",
        "lines": [
            {
                "sku": "BOOK-1",
                "quantity": 3,
                "unit_price": "19.99",
                "line_total": "59.97",
            },
            {"sku": "PEN-7", "quantity": 2, "unit_price": "0.10", "line_total": "0.20"},
        ],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "cancelled_at": None,
    }
    assert order.customer_id == ada.id
    assert order.total == Decimal("60.17")
    assert list(
        order.lines.values_list("position", "sku", "quantity", "unit_price")
    ) == [
        (1, "BOOK-1", 3, Decimal("19.99")),
        (2, "PEN-7", 2, Decimal("0.10")),
    ]


def test_place_looks_the_customer_up_once_and_reads_nothing_back(
    api_client, ada, customer_directory, monkeypatch
):
    lookups = []
    for method in ("get", "get_many"):
        original = getattr(customer_directory, method)

        def counted(*args, _original=original, _method=method, **kwargs):
            lookups.append(_method)
            return _original(*args, **kwargs)

        monkeypatch.setattr(customer_directory, method, counted)
    lines = [line(sku="BOOK-1", quantity=3, unit_price="19.99"), line(sku="PEN-7")]

    with CaptureQueriesContext(connection) as queries:
        response = api_client.post(
            PLACE_URL, placement(ada, lines=lines), format="json"
        )

    assert response.status_code == 201
    assert lookups == ["get"]
    reads = [q["sql"] for q in queries if q["sql"].lstrip().startswith("SELECT")]
    assert not [sql for sql in reads if "orders_order" in sql]
    # What was written, answered as the detail reads it back.
    detail = api_client.get(detail_url(response.json()["id"]))
    assert response.json() == detail.json()


def test_the_total_is_exact_decimal_arithmetic(api_client, ada):
    response = api_client.post(
        PLACE_URL,
        placement(ada, lines=[line(quantity=3, unit_price="19.99")]),
        format="json",
    )

    assert response.json()["total"] == "59.97"
    assert Order.objects.get().total == Decimal("59.97")


def test_a_tenth_of_a_cent_is_not_lost_over_many_lines(api_client, ada):
    lines = [line(sku=f"S{n}", quantity=1, unit_price="0.10") for n in range(100)]

    response = api_client.post(PLACE_URL, placement(ada, lines=lines), format="json")

    assert response.json()["total"] == "10.00"


def test_a_free_line_is_allowed(api_client, ada):
    response = api_client.post(
        PLACE_URL, placement(ada, lines=[line(unit_price="0")]), format="json"
    )

    assert response.status_code == 201
    assert response.json()["total"] == "0.00"


@pytest.mark.parametrize("field", ["customer_id", "lines"])
def test_place_refuses_a_missing_field(api_client, ada, field):
    data = placement(ada)
    del data[field]

    response = api_client.post(PLACE_URL, data, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Order.objects.exists()


@pytest.mark.parametrize("field", ["sku", "quantity", "unit_price"])
def test_place_refuses_a_line_missing_a_field(api_client, ada, field):
    bad = line()
    del bad[field]

    response = api_client.post(PLACE_URL, placement(ada, lines=[bad]), format="json")

    assert response.status_code == 400
    assert response.json()["lines"] == {"0": {field: ["This field is required."]}}
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", 0),
        ("quantity", -1),
        ("quantity", 1.5),
        ("quantity", 1_000_001),
        ("unit_price", "-0.01"),
        ("unit_price", "1.001"),
        ("unit_price", "NaN"),
        ("unit_price", "Infinity"),
        ("unit_price", "10000000000.00"),
        ("sku", ""),
        ("sku", "x" * 65),
    ],
)
def test_place_refuses_an_invalid_line(api_client, ada, field, value):
    lines = [line(), line(**{field: value})]

    response = api_client.post(PLACE_URL, placement(ada, lines=lines), format="json")

    assert response.status_code == 400
    errors = response.json()["lines"]
    assert list(errors) == ["1"]
    assert list(errors["1"]) == [field]
    assert not Order.objects.exists()


@pytest.mark.parametrize("lines", [[], "BOOK-1", [["BOOK-1", 1, "1.00"]]])
def test_place_refuses_malformed_lines(api_client, ada, lines):
    response = api_client.post(PLACE_URL, placement(ada, lines=lines), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["lines"]
    assert not Order.objects.exists()


def test_place_refuses_more_than_one_hundred_lines(api_client, ada):
    lines = [line(sku=f"S{n}") for n in range(101)]

    response = api_client.post(PLACE_URL, placement(ada, lines=lines), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["lines"]


def test_place_refuses_a_total_too_large_to_store(api_client, ada):
    lines = [line(quantity=1_000_000, unit_price="9999999999.99")]

    response = api_client.post(PLACE_URL, placement(ada, lines=lines), format="json")

    assert response.status_code == 400
    assert response.json() == {
        "lines": ["the order total may not exceed 999999999999.99"]
    }
    assert not Order.objects.exists()


def test_the_largest_storable_total_is_accepted(api_client, ada):
    lines = [line(quantity=1, unit_price="9999999999.99")] * 100

    response = api_client.post(PLACE_URL, placement(ada, lines=lines), format="json")

    assert response.status_code == 201
    assert response.json()["total"] == "999999999999.00"


@pytest.mark.parametrize("customer_id", ["not-a-uuid", "", None, 12.5])
def test_place_refuses_a_malformed_customer_id(api_client, ada, customer_id):
    response = api_client.post(
        PLACE_URL, placement(ada, customer_id=customer_id), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["customer_id"]
    assert not Order.objects.exists()


def test_place_refuses_an_unknown_customer(api_client, customer_directory):
    unknown = uuid.uuid4()

    response = api_client.post(
        PLACE_URL, {"customer_id": str(unknown), "lines": [line()]}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"customer_id": [f"no customer with id {unknown}"]}
    assert not Order.objects.exists()


def test_place_refuses_a_customer_deleted_meanwhile(
    api_client, ada, customer_directory
):
    customer_directory.remove(ada.id)

    response = api_client.post(PLACE_URL, placement(ada), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["customer_id"]


def test_place_is_503_and_writes_nothing_while_the_directory_is_down(
    api_client, ada, customer_directory
):
    customer_directory.unavailable = True

    response = api_client.post(PLACE_URL, placement(ada), format="json")

    assert response.status_code == 503
    assert response.json() == {"detail": customer_directory.unavailable_message}
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()


def test_place_refuses_a_malformed_json_body(api_client):
    response = api_client.post(
        PLACE_URL, '{"customer_id": ', content_type="application/json"
    )

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_place_refuses_a_body_that_is_not_an_object(api_client, ada):
    response = api_client.post(PLACE_URL, [placement(ada)], format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


def test_place_refuses_a_form_encoded_body(api_client, ada):
    response = api_client.post(
        PLACE_URL,
        f"customer_id={ada.id}",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415
    assert not Order.objects.exists()


# LIST
# ------------------------------------------------------------------------------


def test_list_returns_every_order_oldest_first_with_customer_names(
    api_client, ada, grace
):
    first = place(ada)
    second = place(grace)

    response = api_client.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [
        (item["id"], item["customer_name"], item["total"]) for item in body["results"]
    ] == [
        (str(first.id), "Ada Lovelace", "1.00"),
        (str(second.id), "Grace Hopper", "1.00"),
    ]


def test_list_filters_by_customer(api_client, ada, grace):
    mine = place(ada)
    place(grace)

    response = api_client.get(LIST_URL, {"customer_id": str(ada.id)})

    assert [item["id"] for item in response.json()["results"]] == [str(mine.id)]


def test_list_filters_by_status(api_client, ada):
    place(ada)
    cancelled = place(ada)
    api_client.post(cancel_url(cancelled.id))

    response = api_client.get(LIST_URL, {"status": "cancelled"})

    assert [item["id"] for item in response.json()["results"]] == [str(cancelled.id)]


def test_list_is_paginated_by_limit_and_offset(api_client, ada):
    orders = [place(ada) for _ in range(3)]

    response = api_client.get(LIST_URL, {"limit": 1, "offset": 2})

    body = response.json()
    assert body["count"] == 3
    assert [item["id"] for item in body["results"]] == [str(orders[2].id)]


@pytest.mark.parametrize(
    ("field", "value"),
    [("customer_id", "not-a-uuid"), ("customer_id", "12"), ("status", "shipped")],
)
def test_list_refuses_a_malformed_filter(api_client, field, value):
    response = api_client.get(LIST_URL, {field: value})

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_list_degrades_to_no_names_while_the_directory_is_down(
    api_client, ada, customer_directory
):
    order = place(ada)
    customer_directory.unavailable = True

    response = api_client.get(LIST_URL)

    assert response.status_code == 200
    assert [
        (item["id"], item["customer_name"]) for item in response.json()["results"]
    ] == [(str(order.id), None)]


def test_an_orphan_order_lists_without_a_name(api_client, ada, customer_directory):
    order = place(ada)
    customer_directory.remove(ada.id)

    response = api_client.get(detail_url(order.id))

    assert response.json()["customer_name"] is None
    assert response.json()["customer_id"] == str(ada.id)


# DETAIL
# ------------------------------------------------------------------------------


def test_detail_returns_the_order(api_client, ada):
    order = place(
        ada, LineRequest(sku="BOOK-1", quantity=3, unit_price=Decimal("19.99"))
    )

    response = api_client.get(detail_url(order.id))

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["customer_name"], body["status"], body["total"]) == (
        str(order.id),
        "Ada Lovelace",
        "placed",
        "59.97",
    )
    assert body["lines"] == [
        {"sku": "BOOK-1", "quantity": 3, "unit_price": "19.99", "line_total": "59.97"}
    ]


def test_detail_degrades_to_no_name_while_the_directory_is_down(
    api_client, ada, customer_directory
):
    order = place(ada)
    customer_directory.unavailable = True

    response = api_client.get(detail_url(order.id))

    assert response.status_code == 200
    assert response.json()["customer_name"] is None


def test_detail_of_an_unknown_id_is_404(api_client):
    response = api_client.get(detail_url(uuid.uuid4()))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_malformed_id_in_the_path_is_a_json_404(api_client):
    response = api_client.get("/api/orders/not-a-uuid/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# CANCEL
# ------------------------------------------------------------------------------


def test_cancel_cancels_the_order(api_client, ada):
    order = place(ada)

    response = api_client.post(cancel_url(order.id))

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"]) == (str(order.id), "cancelled")
    assert body["cancelled_at"] is not None
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancelled_at is not None


def test_cancelling_twice_is_refused(api_client, ada):
    order = place(ada)
    api_client.post(cancel_url(order.id))
    order.refresh_from_db()
    cancelled_at = order.cancelled_at

    response = api_client.post(cancel_url(order.id))

    assert response.status_code == 400
    assert response.json() == {"status": ["the order is already cancelled"]}
    order.refresh_from_db()
    assert order.cancelled_at == cancelled_at


def test_cancel_works_while_the_directory_is_down(api_client, ada, customer_directory):
    order = place(ada)
    customer_directory.unavailable = True

    response = api_client.post(cancel_url(order.id))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_cancel_of_an_unknown_id_is_404(api_client):
    response = api_client.post(cancel_url(uuid.uuid4()))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# METHODS AND AUTHENTICATION
# ------------------------------------------------------------------------------

SOME_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
ENDPOINTS = [
    ("get", LIST_URL),
    ("post", PLACE_URL),
    ("get", detail_url(SOME_ID)),
    ("post", cancel_url(SOME_ID)),
]
WRONG_METHODS = [
    ("post", LIST_URL),
    ("get", PLACE_URL),
    ("put", detail_url(SOME_ID)),
    ("delete", detail_url(SOME_ID)),
    ("get", cancel_url(SOME_ID)),
    ("patch", cancel_url(SOME_ID)),
]


@pytest.mark.parametrize(("method", "url"), WRONG_METHODS)
def test_a_wrong_method_is_405(api_client, method, url):
    response = getattr(api_client, method)(url)

    assert response.status_code == 405
    assert method.upper() in response.json()["detail"]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_every_order_endpoint_needs_credentials(anonymous_client, method, url):
    response = getattr(anonymous_client, method)(url, {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_an_unknown_user_token_is_401(anonymous_client):
    anonymous_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

    response = anonymous_client.get(LIST_URL)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_the_customer_services_token_opens_nothing_here(anonymous_client):
    anonymous_client.credentials(
        HTTP_AUTHORIZATION=f"Service {settings.CUSTOMER_SERVICE_TOKEN}"
    )

    assert anonymous_client.get(LIST_URL).status_code == 401


def test_the_browsable_api_renders_an_order(api_client, ada):
    order = place(ada)

    response = api_client.get(detail_url(order.id), HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert b"Ada Lovelace" in response.content


# HEALTH, SCHEMA, DOCS
# ------------------------------------------------------------------------------


def test_health_is_open_without_credentials(anonymous_client):
    response = anonymous_client.get("/api/health/")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "service": "order",
        "approach": settings.ARCHITECTURE_APPROACH,
        "database": "ok",
        "databases": {"default": "ok"},
    }


def test_health_does_not_depend_on_the_customer_service(
    anonymous_client, customer_directory
):
    customer_directory.unavailable = True

    assert anonymous_client.get("/api/health/").status_code == 200


def test_health_refuses_a_post(anonymous_client):
    assert anonymous_client.post("/api/health/").status_code == 405


def test_the_schema_documents_every_order_endpoint(anonymous_client):
    response = anonymous_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert {
        "/api/orders/",
        "/api/orders/place/",
        "/api/orders/{order_id}/",
        "/api/orders/{order_id}/cancel/",
        "/api/health/",
    } <= set(response.json()["paths"])


def test_the_schema_documents_the_paginated_list_envelope(anonymous_client):
    schema = anonymous_client.get("/api/schema/", {"format": "json"}).json()

    ok = schema["paths"]["/api/orders/"]["get"]["responses"]["200"]
    reference = ok["content"]["application/json"]["schema"]["$ref"]
    envelope = schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    assert {"count", "next", "previous", "results"} <= set(envelope["properties"])


def test_the_schema_generates_without_warnings_and_validates():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_the_docs_page_points_at_the_schema(anonymous_client):
    response = anonymous_client.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"/api/schema/" in response.content

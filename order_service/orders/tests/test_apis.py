"""The order service's HTTP API, endpoint by endpoint, through real auth.

The customer service is played by ``FakeCustomerDirectory`` (see conftest).
"""

import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from order_service.orders.models import Order, OrderLine, OrderStatus
from order_service.orders.services import LineRequest
from order_service.orders.tests.api_support import (
    LIST_URL,
    PLACE_URL,
    cancel_url,
    detail_url,
    line,
    place,
    placement,
)
from service_kit.testing.write_api import Endpoint, WriteApiContract
from shared_events.models import StoredEvent

pytestmark = pytest.mark.django_db


class TestOrderApi(WriteApiContract):
    """What every service's write API answers (``service_kit.testing.write_api``)."""

    service = "order"
    model = Order
    list_url = LIST_URL
    create_url = PLACE_URL
    detail_route = detail_url
    endpoints = [
        Endpoint("/api/orders/", "get", ("post",)),
        Endpoint("/api/orders/place/", "post", ("get",)),
        Endpoint("/api/orders/{order_id}/", "get", ("put", "delete")),
        Endpoint("/api/orders/{order_id}/cancel/", "post", ("get", "patch")),
    ]
    list_filters = {"customer_id", "status"}

    @pytest.fixture
    def creation(self, ada) -> dict:
        return placement(ada)

    @pytest.fixture
    def listed(self, ada) -> list[uuid.UUID]:
        return [place(ada).id for _ in range(3)]


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
        "version": 2,  # placed, then approved: the credit limit was checked
        "customer_id": str(ada.id),
        "customer_name": "Ada Lovelace",
        "status": "approved",
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
    # The one read of the order table adds up the customer's open orders
    # (the credit check); the order written is not read back.
    assert [sql for sql in reads if "orders_order" in sql] == [
        sql for sql in reads if "orders_order" in sql and "SUM(" in sql
    ]
    assert len([sql for sql in reads if "orders_order" in sql]) == 1
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


@pytest.mark.parametrize("unit_price", ["-0", "-0.00", -0.0])
def test_a_negative_zero_price_is_a_free_line(api_client, ada, approach, unit_price):
    """A price of -0 passes the minimum of 0; it is stored, answered and
    recorded in the event as 0 (an event may not carry "-0.00")."""
    response = api_client.post(
        PLACE_URL, placement(ada, lines=[line(unit_price=unit_price)]), format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["lines"][0]["unit_price"], body["total"]) == ("0.00", "0.00")
    assert str(OrderLine.objects.get(order_id=body["id"]).unit_price) == "0.00"
    if approach == "event_sourcing":
        placed = StoredEvent.objects.get(aggregate_id=body["id"])
        assert placed.payload["lines"][0]["unit_price"] == "0.00"
        assert placed.payload["total"] == "0.00"


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


def test_the_largest_storable_total_is_accepted(api_client, ada, settings):
    settings.CREDIT_LIMIT = Decimal("999999999999.99")
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
        "approved",
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


def test_health_does_not_depend_on_the_customer_service(
    anonymous_client, customer_directory
):
    customer_directory.unavailable = True

    assert anonymous_client.get("/api/health/").status_code == 200

"""The order fragments through real authentication (JWTs), under a state
table and under the event store (the ``approach`` fixture): each answers the
fragment contract (``service_kit.fragments``) and what the JSON API answers,
status and reason. The customer service is the fake directory (conftest).
"""

import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from order_service.orders.customers import CustomerSnapshot
from order_service.orders.models import Order, OrderStatus
from order_service.orders.selectors import order_list
from order_service.orders.services import LineRequest, order_place
from order_service.ui import FRAGMENT_VERSION, GATEWAY_PATH
from service_kit.access import EVERY_CUSTOMER
from service_kit.testing.fragments import post_form, read_fragment
from service_kit.testing.tokens import customer_jwt_client, jwt_client

pytestmark = pytest.mark.django_db

LIST_URL = "/api/ui/orders/"
PLACE_URL = "/api/ui/orders/place/"
JSON_PLACE_URL = "/api/orders/place/"


def detail_url(order_id) -> str:
    return f"/api/ui/orders/{order_id}/"


def fragment(response, name: str, status: int = 200):
    return read_fragment(
        response, status=status, service="order", name=name, version=FRAGMENT_VERSION
    )


def hx_gets(parsed) -> set[str]:
    return {attributes["hx-get"] for attributes in parsed.hx if "hx-get" in attributes}


def place(customer, *, quantity: int = 1, unit_price: str = "1.00") -> Order:
    line = LineRequest(sku="BOOK-1", quantity=quantity, unit_price=Decimal(unit_price))
    return order_place(customer_id=customer.id, lines=[line]).order


def form(customer_id, *rows: dict[str, str]) -> dict[str, str]:
    """A place form as htmx sends it: ``lines-<n>-<field>`` for each row."""
    data = {"customer_id": str(customer_id)}
    for index, row in enumerate(rows):
        data.update({f"lines-{index}-{name}": value for name, value in row.items()})
    return data


def row(sku="BOOK-1", quantity="2", unit_price="3.50") -> dict[str, str]:
    return {"sku": sku, "quantity": quantity, "unit_price": unit_price}


@pytest.fixture
def staff(approach) -> APIClient:
    return jwt_client(is_staff=True)


@pytest.fixture
def ada(customer_directory) -> CustomerSnapshot:
    return customer_directory.add(
        CustomerSnapshot(id=uuid.uuid4(), name="Ada Lovelace", email="ada@example.com")
    )


@pytest.fixture
def grace(customer_directory) -> CustomerSnapshot:
    return customer_directory.add(
        CustomerSnapshot(id=uuid.uuid4(), name="Grace Hopper", email="g@example.com")
    )


@pytest.fixture
def ada_user(approach, ada) -> APIClient:
    return customer_jwt_client(ada.id)


# LIST
# ------------------------------------------------------------------------------


def test_the_list_shows_every_order_to_staff(staff, ada, grace):
    orders = [place(ada), place(grace)]

    response = staff.get(LIST_URL)

    parsed = fragment(response, "order-list")
    assert {f"{GATEWAY_PATH}{order.id}/" for order in orders} <= hx_gets(parsed)
    assert f"{GATEWAY_PATH}place/" in hx_gets(parsed)
    html = response.content.decode()
    assert "Ada Lovelace" in html and "Grace Hopper" in html
    assert parsed.tables == 1


def test_a_customer_user_lists_only_its_customers_orders(ada_user, ada, grace):
    own, other = place(ada), place(grace)

    parsed = fragment(ada_user.get(LIST_URL), "order-list")

    assert f"{GATEWAY_PATH}{own.id}/" in hx_gets(parsed)
    assert f"{GATEWAY_PATH}{other.id}/" not in hx_gets(parsed)


def test_the_list_pages_keeping_its_filters(staff, ada):
    place(ada), place(ada)

    parsed = fragment(
        staff.get(LIST_URL, {"customer_id": str(ada.id), "limit": 1}), "order-list"
    )

    assert f"{GATEWAY_PATH}?customer_id={ada.id}&limit=1&offset=1" in hx_gets(parsed)


def test_a_bad_filter_is_a_400_naming_it(staff):
    response = staff.get(LIST_URL, {"status": "lost"})

    parsed = fragment(response, "order-list", status=400)
    assert parsed.alerts[0].startswith("status:")


def test_names_are_missing_not_the_orders_while_the_customer_service_is_down(
    staff, ada, customer_directory
):
    order = place(ada)
    customer_directory.unavailable = True

    response = staff.get(LIST_URL)

    assert f"{GATEWAY_PATH}{order.id}/" in hx_gets(fragment(response, "order-list"))
    assert "Ada Lovelace" not in response.content.decode()


# DETAIL
# ------------------------------------------------------------------------------


def test_the_detail_shows_the_order_and_its_lines(staff, ada):
    order = place(ada, quantity=3, unit_price="19.99")

    response = staff.get(detail_url(order.id))

    parsed = fragment(response, "order-detail")
    assert parsed.root["data-order-id"] == str(order.id)
    html = response.content.decode()
    assert "59.97" in html and "Ada Lovelace" in html
    assert parsed.header_cells == 4 + 1  # the lines' columns, one line


def test_an_unknown_order_is_a_404_fragment(staff):
    response = staff.get(detail_url(uuid.uuid4()))

    parsed = fragment(response, "order-detail", status=404)
    assert parsed.alerts == ["Not found."]


def test_another_customers_order_is_refused_as_the_json_api_refuses_it(ada_user, grace):
    other = place(grace)
    json_answer = ada_user.get(f"/api/orders/{other.id}/")

    response = ada_user.get(detail_url(other.id))

    assert json_answer.status_code == 404
    parsed = fragment(response, "order-detail", status=404)
    assert parsed.alerts == [json_answer.json()["detail"]]


# AUTHENTICATION
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "name"),
    [
        ("get", LIST_URL, "order-list"),
        ("get", detail_url(uuid.uuid4()), "order-detail"),
        ("get", PLACE_URL, "order-place"),
        ("post", PLACE_URL, "order-place"),
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
    assert not Order.objects.exists()


# PLACE
# ------------------------------------------------------------------------------


def test_the_place_form_is_an_htmx_form_with_labelled_rows(staff):
    parsed = fragment(staff.get(PLACE_URL), "order-place")

    assert "customer_id" in parsed.input_names
    assert {"lines-0-sku", "lines-2-unit_price"} <= set(parsed.input_names)
    (form_attributes,) = [a for a in parsed.hx if "hx-post" in a]
    assert form_attributes["hx-post"] == f"{GATEWAY_PATH}place/"
    assert form_attributes["hx-target"] == "closest .fragment"
    assert form_attributes["hx-swap"] == "outerHTML"


def test_a_customer_users_form_names_its_customer(ada_user, ada):
    parsed = fragment(ada_user.get(PLACE_URL), "order-place")

    assert parsed.input_names["customer_id"] == str(ada.id)


def test_placing_answers_the_new_orders_detail(staff, ada, approach):
    sent = form(ada.id, row(), row(sku="", quantity="", unit_price=""), row("PEN"))

    response = post_form(staff, PLACE_URL, sent)

    parsed = fragment(response, "order-detail", status=201)
    (order,) = order_list(scope=EVERY_CUSTOMER)
    assert parsed.root["data-order-id"] == str(order.id)
    assert [line.sku for line in order.lines.all()] == ["BOOK-1", "PEN"]
    assert order.total == Decimal("14.00")
    # The credit rule of the approach decides: at once, or by the saga later.
    expected = (
        OrderStatus.APPROVED if approach == "db_per_service" else OrderStatus.PENDING
    )
    assert order.status == expected


def test_a_bad_line_is_a_400_with_the_error_beside_its_own_row(staff, ada):
    blank = row(sku="", quantity="", unit_price="")
    sent = form(ada.id, blank, row(quantity="0"))

    response = post_form(staff, PLACE_URL, sent)

    parsed = fragment(response, "order-place", status=400)
    assert set(parsed.errors) == {"lines-1-quantity"}
    assert parsed.input_names["lines-1-quantity"] == "0"  # kept as typed
    assert not Order.objects.exists()


def test_no_lines_and_a_bad_customer_id_are_both_named(staff, approach):
    response = post_form(staff, PLACE_URL, {"customer_id": "not-a-uuid"})

    parsed = fragment(response, "order-place", status=400)
    assert set(parsed.errors) == {"customer_id", "lines"}


def test_an_unknown_customer_is_refused_as_the_json_api_refuses_it(staff):
    unknown = uuid.uuid4()
    json_answer = staff.post(
        JSON_PLACE_URL,
        {"customer_id": str(unknown), "lines": [row()]},
        format="json",
    )

    response = post_form(staff, PLACE_URL, form(unknown, row()))

    assert json_answer.status_code == 400
    parsed = fragment(response, "order-place", status=400)
    assert parsed.errors == {"customer_id": json_answer.json()["customer_id"][0]}


def test_another_customers_order_may_not_be_placed(ada_user, grace):
    json_answer = ada_user.post(
        JSON_PLACE_URL, {"customer_id": str(grace.id), "lines": [row()]}, format="json"
    )

    response = post_form(ada_user, PLACE_URL, form(grace.id, row()))

    assert json_answer.status_code == 400
    parsed = fragment(response, "order-place", status=400)
    assert parsed.errors == {"customer_id": f"no customer with id {grace.id}"}
    assert not Order.objects.exists()


def test_the_credit_limit_answers_as_the_json_api_does(staff, ada, settings):
    """Refused at once where the order service checks it (400, on the lines);
    placed PENDING where the saga asks the customer service (201)."""
    settings.CREDIT_LIMIT = Decimal("5.00")
    json_answer = staff.post(
        JSON_PLACE_URL, {"customer_id": str(ada.id), "lines": [row()]}, format="json"
    )

    response = post_form(staff, PLACE_URL, form(ada.id, row()))

    if json_answer.status_code == 400:
        parsed = fragment(response, "order-place", status=400)
        assert parsed.errors == {"lines": json_answer.json()["lines"][0]}
        assert "exceeds the credit" in parsed.errors["lines"]
    else:
        assert json_answer.status_code == 201
        fragment(response, "order-detail", status=201)


def test_the_customer_service_down_is_a_503_keeping_the_form(
    staff, ada, customer_directory
):
    customer_directory.unavailable = True

    response = post_form(staff, PLACE_URL, form(ada.id, row()))

    parsed = fragment(response, "order-place", status=503)
    assert parsed.alerts == [customer_directory.unavailable_message]
    assert parsed.input_names["lines-0-sku"] == "BOOK-1"
    assert not Order.objects.exists()


def test_the_json_apis_body_is_accepted_too(staff, ada):
    response = staff.post(
        PLACE_URL,
        {"customer_id": str(ada.id), "lines": [row(), {"sku": "X"}]},
        format="json",
    )

    parsed = fragment(response, "order-place", status=400)
    assert set(parsed.errors) == {"lines-1-quantity", "lines-1-unit_price"}


@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        {"customer_id": None, "lines": "BOOK-1"},
        {"customer_id": ["a", "b"], "lines": [1, None, []]},
        {"customer_id": "x" * 5000, "lines": [{"sku": {"nested": True}}]},
    ],
)
def test_an_odd_json_body_is_a_400_form_never_a_500(staff, ada, body):
    response = staff.post(PLACE_URL, body, format="json")

    parsed = fragment(response, "order-place", status=400)
    assert parsed.errors or parsed.alerts  # a field's error, or the body's
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "sent",
    [
        {"customer_id": "nul\x00byte", "lines-0-sku": "A"},
        {"lines-99999-sku": "A", "lines-x-sku": "B", "lines-0-colour": "red"},
        {"lines": "BOOK-1", "lines-0-sku": "A"},
    ],
)
def test_an_odd_form_is_a_400_form_never_a_500(staff, ada, sent):
    response = post_form(staff, PLACE_URL, sent)

    parsed = fragment(response, "order-place", status=400)
    assert parsed.errors
    assert not Order.objects.exists()


def test_the_fragments_are_not_part_of_the_json_apis_schema(staff):
    schema = staff.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert schema.status_code == 200
    assert not [path for path in schema.json()["paths"] if "/ui/" in path]

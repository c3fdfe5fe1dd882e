"""The order service's query API: read models only, staleness stated.

The acceptance tests a learner should read first:
``test_the_query_api_answers_from_the_read_database_only`` (the API answers
without a single query on a write-side table) and
``test_a_renamed_or_deleted_customer_shows_on_every_order`` (one customer
event, every order of theirs answers with it).
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from order_service.order_views.models import OrderView
from order_service.order_views.tests.projection_support import project
from service_kit.testing.query_api import QueryApiContract, timestamp
from service_kit.testing.tokens import customer_jwt_client
from shared_events.consume import projecting
from shared_events.testing.projection_events import (
    at,
    cancelled,
    deleted,
    placed,
    registered,
    renamed,
)

pytestmark = pytest.mark.django_db(databases=["default", "read"])

LIST_URL = "/api/query/orders/"
HEADER = "X-Read-Model-Projected-At"
WRITE_SIDE_TABLES = (
    "event_store",
    "event_outbox",
    "event_processed",
    "event_aggregate_cursor",
    "customers_customer",
    "orders_order",
    "orders_orderline",
    "orders_customer_replica",
)
# Token authentication looks the token and its user up in the service's own
# database: the only reason a query request touches ``default`` at all.
AUTHENTICATION_TABLES = ("authtoken_token", "auth_user")


def detail_url(order_id) -> str:
    return f"{LIST_URL}{order_id}/"


@pytest.fixture
def shop() -> dict[str, uuid.UUID]:
    """Ada with three orders (one cancelled), Grace with one, projected."""
    ids = {
        "ada": uuid.uuid4(),
        "grace": uuid.uuid4(),
        "first": uuid.uuid4(),
        "second": uuid.uuid4(),
        "third": uuid.uuid4(),
        "graces": uuid.uuid4(),
    }
    project(
        registered(ids["ada"]),
        registered(ids["grace"], name="Grace Hopper", email="grace@example.com"),
        placed(ids["first"], ids["ada"], lines=[("BOOK-1", 1, "10.00")], minutes=1),
        placed(ids["second"], ids["ada"], lines=[("BOOK-2", 2, "4.50")], minutes=2),
        placed(ids["third"], ids["ada"], lines=[("PEN-1", 1, "3.00")], minutes=3),
        cancelled(ids["second"], ids["ada"], minutes=4),
        placed(ids["graces"], ids["grace"], lines=[("INK-1", 1, "1.00")], minutes=5),
    )
    return ids


def order_ids(response) -> list[str]:
    return [item["order_id"] for item in response.json()["results"]]


def test_the_query_api_answers_from_the_read_database_only(api_client, shop):
    with (
        CaptureQueriesContext(connections["default"]) as write_side,
        CaptureQueriesContext(connections["read"]) as read_side,
    ):
        listed = api_client.get(LIST_URL, {"customer_id": shop["ada"]})
        detail = api_client.get(detail_url(shop["first"]))

    assert listed.status_code == 200, listed.json()
    assert detail.status_code == 200, detail.json()
    assert order_ids(listed) == [str(shop[key]) for key in ("first", "second", "third")]
    assert detail.json()["customer_name"] == "Ada Lovelace"
    default_sql = [query["sql"] for query in write_side.captured_queries]
    assert default_sql, "the token is looked up in the service's own database"
    for sql in default_sql:
        assert not any(table in sql for table in WRITE_SIDE_TABLES), sql
        assert any(table in sql for table in AUTHENTICATION_TABLES), sql
    assert any("read_order_view" in q["sql"] for q in read_side.captured_queries)


def test_with_a_jwt_a_query_request_never_touches_the_write_database(user, shop):
    """Stateless authentication: the signature is checked, no user is looked
    up, so the query side serves the request from the read database alone."""
    from rest_framework.test import APIClient

    from service_kit.access import access_token_for

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
    with (
        CaptureQueriesContext(connections["default"]) as write_side,
        CaptureQueriesContext(connections["read"]) as read_side,
    ):
        response = client.get(LIST_URL)

    assert response.status_code == 200, response.json()
    assert response.json()["results"]
    assert write_side.captured_queries == []
    assert any("read_order_view" in q["sql"] for q in read_side.captured_queries)


def test_a_forged_jwt_is_refused(user, anonymous_client):
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    forged = str(token)[:-4] + ("AAAA" if not str(token).endswith("AAAA") else "BBBB")
    anonymous_client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")

    assert anonymous_client.get(LIST_URL).status_code == 401


def test_a_renamed_or_deleted_customer_shows_on_every_order(api_client, shop):
    ada = shop["ada"]

    project(renamed(ada, "Ada King", version=2, minutes=6))
    after_rename = api_client.get(LIST_URL, {"customer_id": ada}).json()
    project(deleted(ada, version=3, minutes=7))
    after_delete = api_client.get(LIST_URL, {"customer_id": ada}).json()

    assert after_rename["count"] == 3
    assert {item["customer_name"] for item in after_rename["results"]} == {"Ada King"}
    assert {item["customer_deleted"] for item in after_rename["results"]} == {False}
    assert {item["customer_deleted"] for item in after_delete["results"]} == {True}
    assert {item["last_event_type"] for item in after_delete["results"]} == {
        "CustomerDeleted"
    }
    grace = api_client.get(detail_url(shop["graces"])).json()
    assert (grace["customer_name"], grace["customer_deleted"]) == (
        "Grace Hopper",
        False,
    )


def test_detail_of_an_order_with_its_lines_and_staleness(api_client, shop):
    response = api_client.get(detail_url(shop["second"]))

    assert response.status_code == 200
    body = response.json()
    row = OrderView.objects.get(order_id=shop["second"])
    assert body == {
        "order_id": str(shop["second"]),
        "order_version": 2,
        "customer_id": str(shop["ada"]),
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "customer_address": "12 St James's Square, London",
        "customer_deleted": False,
        "status": "cancelled",
        "cancel_reason": "customer_request",
        "total": "9.00",
        "lines": [{"sku": "BOOK-2", "quantity": 2, "unit_price": "4.50"}],
        "placed_at": timestamp(at(2)),
        "cancelled_at": timestamp(at(4)),
        "last_event_id": str(row.last_event_id),
        "last_event_type": "OrderCancelled",
        "last_event_occurred_at": timestamp(at(4)),
        "projected_at": timestamp(row.projected_at),
    }
    assert response[HEADER] == timestamp(row.projected_at)


def test_list_of_every_order_states_the_newest_projection(api_client, shop):
    response = api_client.get(LIST_URL)

    body = response.json()
    assert body["count"] == 4
    assert response[HEADER] == max(item["projected_at"] for item in body["results"])
    for item in body["results"]:
        assert item["projected_at"] and item["last_event_occurred_at"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [("placed", ["first", "third"]), ("cancelled", ["second"])],
)
def test_filter_by_status(api_client, shop, status, expected):
    response = api_client.get(LIST_URL, {"customer_id": shop["ada"], "status": status})

    assert order_ids(response) == [str(shop[key]) for key in expected]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"customer_id": "not-a-uuid"}, "customer_id"),
        ({"status": "rejected"}, "status"),
    ],
)
def test_an_invalid_filter_is_a_400_that_says_why(api_client, shop, params, field):
    response = api_client.get(LIST_URL, params)

    assert response.status_code == 400
    assert field in response.json()


def test_pagination_by_limit_and_offset(api_client, shop):
    response = api_client.get(
        LIST_URL, {"customer_id": shop["ada"], "limit": 1, "offset": 1}
    )

    body = response.json()
    assert body["count"] == 3
    assert order_ids(response) == [str(shop["second"])]
    assert "offset=2" in body["next"]
    assert response[HEADER] == body["results"][0]["projected_at"]


def test_a_page_is_at_most_100_rows(api_client):
    customer_id = uuid.uuid4()
    with projecting("read"):
        OrderView.objects.bulk_create(
            OrderView(
                order_id=uuid.uuid4(),
                customer_id=customer_id,
                status="placed",
                placed_at=at(index),
            )
            for index in range(105)
        )

    response = api_client.get(LIST_URL, {"limit": 500})

    assert len(response.json()["results"]) == 100
    assert "limit=100" in response.json()["next"]


# CUSTOMER USERS: a JWT's customer_id claim narrows lists and details
# ------------------------------------------------------------------------------


def test_a_customer_user_lists_only_its_own_orders(shop):
    client = customer_jwt_client(shop["grace"])

    with CaptureQueriesContext(connections["default"]) as write_side:
        everything = client.get(LIST_URL)
        adas = client.get(LIST_URL, {"customer_id": shop["ada"]})

    assert order_ids(everything) == [str(shop["graces"])]
    assert order_ids(adas) == []
    assert write_side.captured_queries == []


def test_staff_see_every_order(api_client, shop):
    assert len(order_ids(api_client.get(LIST_URL))) == 4


class TestOrderViewQueryApi(QueryApiContract):
    list_url = LIST_URL
    id_name = "order_id"
    read_model = OrderView
    empty_filter = {"customer_id": uuid.uuid4()}

    @pytest.fixture
    def projected(self, shop) -> dict[str, uuid.UUID]:
        return shop

    def any_item(self, projected) -> uuid.UUID:
        return projected["first"]

    def seen_by(self, projected) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        return projected["grace"], projected["graces"], projected["first"]

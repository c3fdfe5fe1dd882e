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
from service_kit.access import access_token_for
from service_kit.api.staleness import PROJECTED_AT_HEADER as HEADER
from service_kit.testing.query_api import QueryApiContract, timestamp
from service_kit.testing.tokens import customer_jwt_client
from shared_events.testing import projection_events as event
from shared_events.testing.projection_events import at
from shared_events.testing.read_side_api import (
    ReadSideApiContract,
    beyond_throttle_counts,
    queries_by_database,
)

pytestmark = pytest.mark.django_db(databases=["default", "read"])

LIST_URL = "/api/query/orders/"


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
    ada, grace = ids["ada"], ids["grace"]
    project(
        event.registered(ada),
        event.registered(grace, name="Grace Hopper", email="grace@example.com"),
        event.placed(ids["first"], ada, lines=[("BOOK-1", 1, "10.00")], minutes=1),
        event.placed(ids["second"], ada, lines=[("BOOK-2", 2, "4.50")], minutes=2),
        event.placed(ids["third"], ada, lines=[("PEN-1", 1, "3.00")], minutes=3),
        event.cancelled(ids["second"], ada, minutes=4),
        event.placed(ids["graces"], grace, lines=[("INK-1", 1, "1.00")], minutes=5),
    )
    return ids


def detail_url(order_id) -> str:
    return f"{LIST_URL}{order_id}/"


def order_ids(response) -> list[str]:
    return [item["order_id"] for item in response.json()["results"]]


def test_the_query_api_answers_from_the_read_database_only(api_client, shop):
    with queries_by_database() as queries:
        listed = api_client.get(LIST_URL, {"customer_id": shop["ada"]})
        detail = api_client.get(detail_url(shop["first"]))

    assert listed.status_code == 200, listed.json()
    assert detail.status_code == 200, detail.json()
    assert order_ids(listed) == [str(shop[key]) for key in ("first", "second", "third")]
    assert detail.json()["customer_name"] == "Ada Lovelace"
    queries.assert_answered_from("read_order_view")


def test_a_renamed_or_deleted_customer_shows_on_every_order(api_client, shop):
    ada = shop["ada"]

    project(event.renamed(ada, "Ada King", version=2, minutes=6))
    after_rename = api_client.get(LIST_URL, {"customer_id": ada}).json()
    project(event.deleted(ada, version=3, minutes=7))
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
    [("pending", ["first", "third"]), ("cancelled", ["second"])],
)
def test_filter_by_status(api_client, shop, status, expected):
    response = api_client.get(LIST_URL, {"customer_id": shop["ada"], "status": status})

    assert order_ids(response) == [str(shop[key]) for key in expected]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"customer_id": "not-a-uuid"}, "customer_id"),
        ({"status": "placed"}, "status"),
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


# CUSTOMER USERS: a JWT's customer_id claim narrows lists and details (the
# contract's tests below); staff see everything
# ------------------------------------------------------------------------------


def test_staff_see_every_order(api_client, shop):
    assert len(order_ids(api_client.get(LIST_URL))) == 4


def test_a_customer_user_asking_for_another_customers_orders_gets_none(shop):
    client = customer_jwt_client(shop["grace"])

    with CaptureQueriesContext(connections["default"]) as write_side:
        adas = client.get(LIST_URL, {"customer_id": shop["ada"]})

    assert adas.status_code == 200
    assert order_ids(adas) == []
    assert beyond_throttle_counts(write_side.captured_queries) == []


class TestOrderViewQueryApi(QueryApiContract, ReadSideApiContract):
    list_url = LIST_URL
    id_name = "order_id"
    read_model = OrderView
    empty_filter = {"customer_id": uuid.uuid4()}
    version_field = "order_version"
    access_token_for = staticmethod(access_token_for)
    customer_jwt_client = staticmethod(customer_jwt_client)

    def unprojected_row(self, index: int) -> OrderView:
        return OrderView(
            order_id=uuid.uuid4(),
            customer_id=uuid.uuid4(),
            status="pending",
            placed_at=at(index),
        )

    @pytest.fixture
    def projected(self, shop) -> dict[str, uuid.UUID]:
        return shop

    def any_item(self, projected) -> uuid.UUID:
        return projected["first"]

    def seen_by(self, projected) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        return projected["grace"], projected["graces"], projected["first"]

    def project_next_version(self, projected) -> int:
        project(event.cancelled(projected["first"], projected["ada"], minutes=20))
        return 2

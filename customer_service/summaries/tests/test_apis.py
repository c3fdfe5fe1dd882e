"""The customer service's query API: read models only, staleness stated.

The acceptance test a learner should read first is
``test_the_query_api_answers_from_the_read_database_only``: the events are
projected into the read database, and the API answers from there without
a single query on a write-side table.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from customer_service.summaries.models import CustomerSummary
from customer_service.summaries.tests.projection_support import project
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

LIST_URL = "/api/query/customers/"
HEADER = "X-Read-Model-Projected-At"
WRITE_SIDE_TABLES = (
    "event_store",
    "event_outbox",
    "event_processed",
    "event_aggregate_cursor",
    "customers_customer",
    "orders_order",
    "orders_orderline",
)
# Token authentication looks the token and its user up in the service's own
# database: the only reason a query request touches ``default`` at all.
AUTHENTICATION_TABLES = ("authtoken_token", "auth_user")


def detail_url(customer_id) -> str:
    return f"{LIST_URL}{customer_id}/"


@pytest.fixture
def customers() -> dict[str, uuid.UUID]:
    """Three live customers and a deleted one, with orders, projected."""
    ids = {name: uuid.uuid4() for name in ("ada", "grace", "alan", "edsger")}
    ada_orders = [uuid.uuid4(), uuid.uuid4()]
    project(
        registered(ids["ada"], name="Ada Lovelace", email="Ada@Example.com"),
        registered(ids["grace"], name="Grace Hopper", email="grace@example.com"),
        registered(ids["alan"], name="Alan Turing", email="alan@example.com"),
        registered(ids["edsger"], name="Edsger Dijkstra", email="ewd@example.com"),
        placed(ada_orders[0], ids["ada"], lines=[("BOOK-1", 1, "10.00")], minutes=3),
        placed(ada_orders[1], ids["ada"], lines=[("BOOK-2", 1, "99.00")], minutes=4),
        cancelled(ada_orders[1], ids["ada"], minutes=5),
        placed(uuid.uuid4(), ids["grace"], lines=[("PEN-1", 5, "8.00")], minutes=6),
        placed(uuid.uuid4(), ids["edsger"], lines=[("INK-1", 1, "1.00")], minutes=7),
        deleted(ids["edsger"], version=2, minutes=8),
    )
    return ids


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["results"]]


def test_the_query_api_answers_from_the_read_database_only(api_client, customers):
    ada = customers["ada"]
    project(renamed(ada, "Ada King", version=2, minutes=9))

    with (
        CaptureQueriesContext(connections["default"]) as write_side,
        CaptureQueriesContext(connections["read"]) as read_side,
    ):
        listed = api_client.get(LIST_URL, {"name": "king"})
        detail = api_client.get(detail_url(ada))

    assert listed.status_code == 200, listed.json()
    assert detail.status_code == 200, detail.json()
    assert names(listed) == ["Ada King"]
    assert detail.json()["name"] == "Ada King"
    assert (detail.json()["order_count"], detail.json()["lifetime_value"]) == (
        2,
        "10.00",
    )
    default_sql = [query["sql"] for query in write_side.captured_queries]
    assert default_sql, "the token is looked up in the service's own database"
    for sql in default_sql:
        assert not any(table in sql for table in WRITE_SIDE_TABLES), sql
        assert any(table in sql for table in AUTHENTICATION_TABLES), sql
    assert any("read_customer_summary" in q["sql"] for q in read_side.captured_queries)


def test_with_a_jwt_a_query_request_never_touches_the_write_database(user, customers):
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
    assert any("read_customer_summary" in q["sql"] for q in read_side.captured_queries)


def test_a_forged_jwt_is_refused(user, anonymous_client):
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    forged = str(token)[:-4] + ("AAAA" if not str(token).endswith("AAAA") else "BBBB")
    anonymous_client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")

    assert anonymous_client.get(LIST_URL).status_code == 401


def test_list_shows_live_customers_by_name_with_their_staleness(api_client, customers):
    response = api_client.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert names(response) == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    ada = body["results"][0]
    assert ada == {
        "customer_id": str(customers["ada"]),
        "name": "Ada Lovelace",
        "email": "Ada@Example.com",
        "address": "12 St James's Square, London",
        "registered": True,
        "deleted": False,
        "customer_version": 1,
        "order_count": 2,
        "open_order_count": 1,
        "lifetime_value": "10.00",
        "last_order_at": timestamp(at(4)),
        "last_event_id": ada["last_event_id"],
        "last_event_type": "OrderCancelled",
        "last_event_occurred_at": timestamp(at(5)),
        "projected_at": ada["projected_at"],
    }
    newest = max(item["projected_at"] for item in body["results"])
    assert response[HEADER] == newest


def test_detail_of_a_customer_states_its_staleness(api_client, customers):
    response = api_client.get(detail_url(customers["grace"]))

    assert response.status_code == 200
    body = response.json()
    row = CustomerSummary.objects.get(customer_id=customers["grace"])
    assert (body["order_count"], body["lifetime_value"]) == (1, "40.00")
    assert body["projected_at"] == timestamp(row.projected_at)
    assert body["last_event_occurred_at"] == timestamp(at(6))
    assert response[HEADER] == timestamp(row.projected_at)


def test_a_deleted_customer_is_hidden_from_the_list_but_not_from_its_detail(
    api_client, customers
):
    edsger = customers["edsger"]

    only_deleted = api_client.get(LIST_URL, {"deleted": "true"})
    everyone = api_client.get(LIST_URL, {"deleted": "all"})
    hidden = api_client.get(LIST_URL, {"deleted": "false"})
    detail = api_client.get(detail_url(edsger))

    assert names(only_deleted) == ["Edsger Dijkstra"]
    assert len(names(everyone)) == 4
    assert "Edsger Dijkstra" not in names(hidden)
    assert detail.status_code == 200
    assert (detail.json()["deleted"], detail.json()["order_count"]) == (True, 1)


def test_filters_by_email_any_case_and_by_part_of_the_name(api_client, customers):
    assert names(api_client.get(LIST_URL, {"email": "ada@EXAMPLE.com"})) == [
        "Ada Lovelace"
    ]
    assert names(api_client.get(LIST_URL, {"name": "TUR"})) == ["Alan Turing"]
    assert names(api_client.get(LIST_URL, {"name": "nobody"})) == []


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["Ada Lovelace", "Alan Turing", "Grace Hopper"]),
        ("-name", ["Grace Hopper", "Alan Turing", "Ada Lovelace"]),
        ("lifetime_value", ["Alan Turing", "Ada Lovelace", "Grace Hopper"]),
        ("-lifetime_value", ["Grace Hopper", "Ada Lovelace", "Alan Turing"]),
        ("order_count", ["Alan Turing", "Grace Hopper", "Ada Lovelace"]),
        ("-order_count", ["Ada Lovelace", "Grace Hopper", "Alan Turing"]),
        # customers without an order come last either way
        ("last_order_at", ["Ada Lovelace", "Grace Hopper", "Alan Turing"]),
        ("-last_order_at", ["Grace Hopper", "Ada Lovelace", "Alan Turing"]),
    ],
)
def test_ordering(api_client, customers, ordering, expected):
    response = api_client.get(LIST_URL, {"ordering": ordering})

    assert response.status_code == 200
    assert names(response) == expected


@pytest.mark.parametrize("ordering", ["email", "customer_id", "-", "name,-name"])
def test_an_unknown_ordering_is_a_400_that_says_why(api_client, customers, ordering):
    response = api_client.get(LIST_URL, {"ordering": ordering})

    assert response.status_code == 400
    assert "ordering" in response.json()


def test_an_unknown_deleted_choice_is_a_400(api_client, customers):
    response = api_client.get(LIST_URL, {"deleted": "maybe"})

    assert response.status_code == 400
    assert "deleted" in response.json()


def test_pagination_by_limit_and_offset(api_client, customers):
    response = api_client.get(LIST_URL, {"limit": 1, "offset": 1})

    body = response.json()
    assert body["count"] == 3
    assert names(response) == ["Alan Turing"]
    assert "offset=2" in body["next"]
    assert response[HEADER] == body["results"][0]["projected_at"]


def test_a_page_is_at_most_100_rows(api_client):
    with projecting("read"):
        CustomerSummary.objects.bulk_create(
            CustomerSummary(customer_id=uuid.uuid4(), name=f"customer {index:03}")
            for index in range(105)
        )

    response = api_client.get(LIST_URL, {"limit": 500})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 100
    assert "limit=100" in response.json()["next"]


# CUSTOMER USERS: a JWT's customer_id claim narrows lists and details
# ------------------------------------------------------------------------------


def test_a_customer_user_lists_only_its_own_summary(customers):
    client = customer_jwt_client(customers["ada"])

    with CaptureQueriesContext(connections["default"]) as write_side:
        response = client.get(LIST_URL)

    assert response.status_code == 200
    assert names(response) == ["Ada Lovelace"]
    assert write_side.captured_queries == []


def test_staff_see_every_summary(api_client, customers):
    assert len(names(api_client.get(LIST_URL))) == 3


class TestCustomerSummaryQueryApi(QueryApiContract):
    list_url = LIST_URL
    id_name = "customer_id"
    read_model = CustomerSummary
    empty_filter = {"name": "nobody"}

    @pytest.fixture
    def projected(self, customers) -> dict[str, uuid.UUID]:
        return customers

    def any_item(self, projected) -> uuid.UUID:
        return projected["ada"]

    def seen_by(self, projected) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        return projected["ada"], projected["ada"], projected["grace"]

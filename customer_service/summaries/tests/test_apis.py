"""The customer service's query API: read models only, staleness stated.

The acceptance test a learner should read first is
``test_the_query_api_answers_from_the_read_database_only``: the events are
projected into the read database, and the API answers from there without
a single query on a write-side table.
"""

from __future__ import annotations

import uuid

import pytest

from customer_service.summaries.models import CustomerSummary
from customer_service.summaries.tests.projection_support import project
from service_kit.access import access_token_for
from service_kit.api.staleness import PROJECTED_AT_HEADER as HEADER
from service_kit.testing.query_api import QueryApiContract, timestamp
from service_kit.testing.tokens import customer_jwt_client
from shared_events.testing import projection_events as event
from shared_events.testing.projection_events import at
from shared_events.testing.read_side_api import ReadSideApiContract, queries_by_database

pytestmark = pytest.mark.django_db(databases=["default", "read"])

LIST_URL = "/api/query/customers/"


@pytest.fixture
def customers() -> dict[str, uuid.UUID]:
    """Three live customers and a deleted one, with orders, projected."""
    ids = {name: uuid.uuid4() for name in ("ada", "grace", "alan", "edsger")}
    ada, grace, edsger = ids["ada"], ids["grace"], ids["edsger"]
    ada_orders = [uuid.uuid4(), uuid.uuid4()]
    project(
        event.registered(ada, name="Ada Lovelace", email="Ada@Example.com"),
        event.registered(grace, name="Grace Hopper", email="grace@example.com"),
        event.registered(ids["alan"], name="Alan Turing", email="alan@example.com"),
        event.registered(edsger, name="Edsger Dijkstra", email="ewd@example.com"),
        event.placed(ada_orders[0], ada, lines=[("BOOK-1", 1, "10.00")], minutes=3),
        event.placed(ada_orders[1], ada, lines=[("BOOK-2", 1, "99.00")], minutes=4),
        event.cancelled(ada_orders[1], ada, minutes=5),
        event.placed(uuid.uuid4(), grace, lines=[("PEN-1", 5, "8.00")], minutes=6),
        event.placed(uuid.uuid4(), edsger, lines=[("INK-1", 1, "1.00")], minutes=7),
        event.deleted(edsger, version=2, minutes=8),
    )
    return ids


def detail_url(customer_id) -> str:
    return f"{LIST_URL}{customer_id}/"


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["results"]]


def test_the_query_api_answers_from_the_read_database_only(api_client, customers):
    ada = customers["ada"]
    project(event.renamed(ada, "Ada King", version=2, minutes=9))

    with queries_by_database() as queries:
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
    queries.assert_answered_from("read_customer_summary")


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


# CUSTOMER USERS: a JWT's customer_id claim narrows lists and details (the
# contract's tests below); staff see everything
# ------------------------------------------------------------------------------


def test_staff_see_every_summary(api_client, customers):
    assert len(names(api_client.get(LIST_URL))) == 3


class TestCustomerSummaryQueryApi(QueryApiContract, ReadSideApiContract):
    list_url = LIST_URL
    id_name = "customer_id"
    read_model = CustomerSummary
    empty_filter = {"name": "nobody"}
    version_field = "customer_version"
    access_token_for = staticmethod(access_token_for)
    customer_jwt_client = staticmethod(customer_jwt_client)

    @pytest.fixture
    def projected(self, customers) -> dict[str, uuid.UUID]:
        return customers

    def unprojected_row(self, index: int) -> CustomerSummary:
        return CustomerSummary(customer_id=uuid.uuid4(), name=f"customer {index:03}")

    def any_item(self, projected) -> uuid.UUID:
        return projected["ada"]

    def seen_by(self, projected) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        # Ada's own summary, and Grace's
        ada, grace = projected["ada"], projected["grace"]
        return ada, ada, grace

    def project_next_version(self, projected) -> int:
        project(event.renamed(projected["ada"], "Ada Byron", version=2, minutes=20))
        return 2

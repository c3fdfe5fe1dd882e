"""GET /api/analytics/revenue/: authenticated as everywhere, scoped, filtered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from analytics_service.revenue.tests.events import placed
from analytics_service.revenue.tests.test_folds import apply
from service_kit.testing.tokens import customer_jwt_client, jwt_client

pytestmark = pytest.mark.django_db

URL = "/api/analytics/revenue/"
ADA, BOB = uuid.uuid4(), uuid.uuid4()


@pytest.fixture
def revenue():
    for customer, day, total in [
        (ADA, 1, "10.00"),
        (ADA, 1, "5.00"),
        (ADA, 3, "1.00"),
        (BOB, 2, "7.00"),
    ]:
        apply(
            placed(
                uuid.uuid4(),
                customer,
                total=total,
                occurred_at=datetime(2026, 3, day, 9, tzinfo=UTC),
            )
        )


def rows(response) -> list[tuple]:
    assert response.status_code == 200, response.content
    return [
        (r["customer_id"], r["day"], r["order_count"], r["revenue"])
        for r in response.json()["results"]
    ]


def test_staff_see_every_customers_days_oldest_first(api_client, revenue):
    assert rows(api_client.get(URL)) == [
        (str(ADA), "2026-03-01", 2, "15.00"),
        (str(BOB), "2026-03-02", 1, "7.00"),
        (str(ADA), "2026-03-03", 1, "1.00"),
    ]


def test_filters_by_customer_and_days(api_client, revenue):
    response = api_client.get(
        URL, {"customer_id": str(ADA), "day_from": "2026-03-02", "day_to": "2026-03-03"}
    )
    assert rows(response) == [(str(ADA), "2026-03-03", 1, "1.00")]


def test_the_jwt_the_other_services_accept_is_accepted(revenue):
    assert len(rows(jwt_client(is_staff=True).get(URL))) == 3


def test_a_customers_user_sees_its_own_days_only(revenue):
    assert [r[0] for r in rows(customer_jwt_client(BOB).get(URL))] == [str(BOB)]


def test_no_credentials_get_401_and_health_stays_open(anonymous_client):
    assert anonymous_client.get(URL).status_code == 401
    health = anonymous_client.get("/api/health/")
    assert health.status_code == 200
    assert health.json()["service"] == "analytics"


@pytest.mark.parametrize(
    "query, field",
    [
        ({"customer_id": "not-a-uuid"}, "customer_id"),
        ({"day_from": "2026-13-01"}, "day_from"),
        ({"day_from": "2026-03-05", "day_to": "2026-03-01"}, "day_to"),
    ],
)
def test_a_bad_filter_is_400_naming_the_field(api_client, query, field):
    response = api_client.get(URL, query)
    assert response.status_code == 400
    assert field in response.content.decode()

"""Approaches 1 and 2 through the real HTTP APIs of both services."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lab.client import PlatformClient
from lab.scenarios.schema_change import customer_migration_applied
from observe.consistency import orphan_orders_between
from stack.connections import fetch_value
from stack.platform_run import running_platform

pytestmark = pytest.mark.slow


def _client(run) -> PlatformClient:
    return PlatformClient(
        customer_url=run.url("customer"), order_url=run.url("order"), token=run.token
    )


@pytest.fixture(scope="class")
def run(request, server_url, database_prefix):
    """The platform under the test class's ``approach``, for all its tests."""
    with running_platform(
        approach=request.cls.approach, server_url=server_url, prefix=database_prefix
    ) as started:
        yield started


class TestSharedDatabase:
    approach = "shared_db"

    def test_both_services_use_one_database(self, run):
        assert run.database_url("customer") == run.database_url("order")

    def test_orders_reference_customers_by_a_real_cascading_foreign_key(self, run):
        definition = fetch_value(
            run.database_url("order"),
            "SELECT count(*) FROM pg_constraint WHERE conname = "
            "'orders_order_customer_fk' AND confdeltype = 'c'",
        )
        assert definition == 1

    def test_deleting_a_customer_deletes_their_orders_and_lines(self, run):
        client = _client(run)
        customer = client.register_customer(
            name="Carol", email="carol@example.com", address="3 Hill Road"
        )
        order_ids = []
        for _ in range(2):
            response = client.place_order(
                customer_id=customer["id"], lines=[("SKU-1", 2, Decimal("5.00"))]
            )
            assert response.status_code == 201, response.text
            order_ids.append(response.json()["id"])
        url = run.database_url("order")
        orders_sql = "SELECT count(*) FROM orders_order WHERE id::text = ANY(%s)"
        lines_sql = (
            "SELECT count(*) FROM orders_orderline WHERE order_id::text = ANY(%s)"
        )
        assert fetch_value(url, orders_sql, [order_ids]) == 2
        assert fetch_value(url, lines_sql, [order_ids]) == 2
        client.delete_customer(customer["id"])
        assert fetch_value(url, orders_sql, [order_ids]) == 0
        assert fetch_value(url, lines_sql, [order_ids]) == 0

    def test_order_api_shows_the_customer_name_read_from_the_customer_table(self, run):
        client = _client(run)
        customer = client.register_customer(
            name="Dave Reader", email="dave@example.com", address="4 Lane"
        )
        response = client.place_order(
            customer_id=customer["id"], lines=[("SKU-2", 1, Decimal("1.00"))]
        )
        assert response.json()["customer_name"] == "Dave Reader"

    def test_renaming_a_customer_column_breaks_the_order_service(self, run):
        """The schema coupling: the customer service's migration, the order
        service's outage."""
        client = _client(run)
        customer = client.register_customer(
            name="Erin", email="erin@example.com", address="5 Close"
        )
        response = client.place_order(
            customer_id=customer["id"], lines=[("SKU-3", 1, Decimal("1.00"))]
        )
        assert response.status_code == 201
        with customer_migration_applied(run):
            broken = client.session.get(
                f"{run.url('order')}/api/orders/{response.json()['id']}/",
                timeout=10,
            )
            assert broken.status_code == 500
        healed = client.session.get(
            f"{run.url('order')}/api/orders/{response.json()['id']}/",
            timeout=10,
        )
        assert healed.status_code == 200


class TestDatabasePerService:
    approach = "db_per_service"

    def test_services_use_separate_databases(self, run):
        assert run.database_url("customer") != run.database_url("order")
        assert (
            fetch_value(
                run.database_url("order"),
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_name = 'customers_customer'",
            )
            == 0
        )

    def test_placing_an_order_for_an_unknown_customer_is_refused(self, run):
        client = _client(run)
        response = client.place_order(
            customer_id="00000000-0000-4000-8000-000000000000",
            lines=[("SKU-1", 1, Decimal("1.00"))],
        )
        assert response.status_code == 400
        assert "customer_id" in response.json()

    def test_deleting_a_customer_leaves_orphan_orders(self, run):
        client = _client(run)
        customer = client.register_customer(
            name="Frank", email="frank@example.com", address="6 Court"
        )
        for _ in range(2):
            assert (
                client.place_order(
                    customer_id=customer["id"], lines=[("SKU-1", 1, Decimal("2.00"))]
                ).status_code
                == 201
            )
        client.delete_customer(customer["id"])
        report = orphan_orders_between(
            approach=run.approach,
            order_database_url=run.database_url("order"),
            customer_database_url=run.database_url("customer"),
        )
        orphaned = [o for o in report.orphan_orders if o.customer_id == customer["id"]]
        assert len(orphaned) == 2

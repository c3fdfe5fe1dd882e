"""Approaches 1 and 2 through the real HTTP APIs of both services."""

from __future__ import annotations

from decimal import Decimal

import psycopg2
import pytest

from lab.client import PlatformClient
from lab.walkthrough import fault_for, run_scenario
from observe.consistency import orphan_orders_between
from shared_events.approaches import approach_info
from stack.platform_run import running_platform

pytestmark = pytest.mark.slow


def _client(run) -> PlatformClient:
    return PlatformClient(
        customer_url=run.url("customer"), order_url=run.url("order"), token=run.token
    )


def _count(url: str, sql: str, params=()) -> int:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        value = cursor.fetchone()[0]
    connection.close()
    return value


@pytest.fixture(scope="module")
def shared_db_run(server_url, database_prefix):
    with running_platform(
        approach="shared_db", server_url=server_url, prefix=database_prefix
    ) as run:
        yield run


@pytest.fixture(scope="module")
def db_per_service_run(server_url, database_prefix):
    with running_platform(
        approach="db_per_service", server_url=server_url, prefix=database_prefix
    ) as run:
        yield run


class TestSharedDatabase:
    def test_both_services_use_one_database(self, shared_db_run):
        assert shared_db_run.database_url("customer") == shared_db_run.database_url(
            "order"
        )

    def test_orders_reference_customers_by_a_real_cascading_foreign_key(
        self, shared_db_run
    ):
        definition = _count(
            shared_db_run.database_url("order"),
            "SELECT count(*) FROM pg_constraint WHERE conname = "
            "'orders_order_customer_fk' AND confdeltype = 'c'",
        )
        assert definition == 1

    def test_deleting_a_customer_deletes_their_orders_and_lines(self, shared_db_run):
        client = _client(shared_db_run)
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
        url = shared_db_run.database_url("order")
        orders_sql = "SELECT count(*) FROM orders_order WHERE id::text = ANY(%s)"
        lines_sql = (
            "SELECT count(*) FROM orders_orderline WHERE order_id::text = ANY(%s)"
        )
        assert _count(url, orders_sql, [order_ids]) == 2
        assert _count(url, lines_sql, [order_ids]) == 2
        client.delete_customer(customer["id"])
        assert _count(url, orders_sql, [order_ids]) == 0
        assert _count(url, lines_sql, [order_ids]) == 0

    def test_order_api_shows_the_customer_name_read_from_the_customer_table(
        self, shared_db_run
    ):
        client = _client(shared_db_run)
        customer = client.register_customer(
            name="Dave Reader", email="dave@example.com", address="4 Lane"
        )
        response = client.place_order(
            customer_id=customer["id"], lines=[("SKU-2", 1, Decimal("1.00"))]
        )
        assert response.json()["customer_name"] == "Dave Reader"

    def test_renaming_a_customer_column_breaks_the_order_service(self, shared_db_run):
        """The schema coupling: the customer service's migration, the order
        service's outage."""
        client = _client(shared_db_run)
        customer = client.register_customer(
            name="Erin", email="erin@example.com", address="5 Close"
        )
        response = client.place_order(
            customer_id=customer["id"], lines=[("SKU-3", 1, Decimal("1.00"))]
        )
        assert response.status_code == 201
        url = shared_db_run.database_url("customer")
        connection = psycopg2.connect(url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE customers_customer RENAME COLUMN name TO full_name"
                )
            broken = client.session.get(
                f"{shared_db_run.url('order')}/api/orders/{response.json()['id']}/",
                timeout=10,
            )
            assert broken.status_code == 500
        finally:
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE customers_customer RENAME COLUMN full_name TO name"
                )
            connection.close()
        healed = client.session.get(
            f"{shared_db_run.url('order')}/api/orders/{response.json()['id']}/",
            timeout=10,
        )
        assert healed.status_code == 200


class TestDatabasePerService:
    def test_services_use_separate_databases(self, db_per_service_run):
        run = db_per_service_run
        assert run.database_url("customer") != run.database_url("order")
        assert (
            _count(
                run.database_url("order"),
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_name = 'customers_customer'",
            )
            == 0
        )

    def test_placing_an_order_for_an_unknown_customer_is_refused(
        self, db_per_service_run
    ):
        client = _client(db_per_service_run)
        response = client.place_order(
            customer_id="00000000-0000-4000-8000-000000000000",
            lines=[("SKU-1", 1, Decimal("1.00"))],
        )
        assert response.status_code == 400
        assert "customer_id" in response.json()

    def test_deleting_a_customer_leaves_orphan_orders(self, db_per_service_run):
        run = db_per_service_run
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


@pytest.mark.parametrize(
    ("approach", "orphans", "failed", "crashed"),
    [
        # The other four approaches run the same faults in tests/test_lab.py
        # (crash-before-publish, delete-customer, customer-service-down).
        ("cqrs_es", 0, {}, True),
    ],
)
def test_walkthrough_scenario_measures_each_approach_flaw(
    server_url, database_prefix, approach, orphans, failed, crashed
):
    fault = fault_for(approach)
    with running_platform(
        approach=approach,
        server_url=server_url,
        prefix=database_prefix,
        extra_env={"FAULT_INJECTION": fault} if fault else None,
    ) as run:
        result = run_scenario(run, fault=fault)
        customer_down = not run.services["customer"].running()
    assert customer_down
    assert result.producer_crashed is crashed
    assert result.orphan_orders == orphans
    assert result.failed_placements == failed
    if approach_info(approach).read_side:
        # Both read models, read through the query APIs, showed the delete.
        assert result.read_models_settled_after is not None

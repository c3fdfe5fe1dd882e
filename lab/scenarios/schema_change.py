"""The customer table changes shape while orders are read.

A migration of the customer service renames ``customers_customer.name`` to
``full_name``; meanwhile a client reads orders from the order service. Only
an order service that reads the customer table itself can break.
"""

from __future__ import annotations

import psycopg2
import requests

from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario
from observe.tables import CUSTOMER_TABLE

READS = 5


class SchemaChange(Scenario):
    name = "schema-change"
    title = "rename a customer-table column while orders are read"

    def run(self, ctx: ScenarioContext) -> None:
        customer = ctx.register("Schema Case")
        ctx.wait_replicated(customer["id"])
        ctx.place_order(customer["id"])
        order_id = ctx.orders[-1] if ctx.orders else None
        connection = psycopg2.connect(ctx.run.database_url("customer"))
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ALTER TABLE {CUSTOMER_TABLE} RENAME COLUMN name TO full_name"
                )
            for _ in range(READS):
                self._read_order(ctx, order_id)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ALTER TABLE {CUSTOMER_TABLE} RENAME COLUMN full_name TO name"
                )
            connection.close()

    def _read_order(self, ctx: ScenarioContext, order_id: str | None) -> None:
        url = f"{ctx.run.url('order')}/api/orders/"
        if order_id:
            url += f"{order_id}/"
        try:
            response = ctx.client.session.get(url, timeout=10)
        except requests.RequestException as error:
            status = error.__class__.__name__
        else:
            if response.status_code < 400:
                ctx.commands_ok += 1
                return
            status = str(response.status_code)
        ctx.order_service_failures[status] = (
            ctx.order_service_failures.get(status, 0) + 1
        )

    def lesson(self, approach: str, measured: Measurements) -> str:
        failed = measured.failed_request_count
        if failed:
            return (
                f"{failed} of {READS} order reads failed: the order service reads the "
                "customer table, so the customer service's migration broke it"
            )
        return (
            f"all {READS} order reads succeeded: the order service does not depend on "
            "the customer table's shape"
        )

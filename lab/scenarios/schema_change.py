"""The customer table changes shape while orders are read.

A migration of the customer service renames ``customers_customer.name`` to
``full_name``; meanwhile a client reads orders from the order service. Only
an order service that reads the customer table itself can break.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests

from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario
from observe.tables import CUSTOMER_TABLE
from stack.connections import open_connection

READS = 5


@contextmanager
def customer_column_renamed(customer_database_url: str) -> Iterator[None]:
    """The customer table's ``name`` column is ``full_name`` meanwhile.

    What a migration of the customer service does to a table it owns; the
    column gets its name back afterwards. Each statement commits at once, so
    every service process sees the new shape.
    """
    with (
        open_connection(customer_database_url, autocommit=True) as connection,
        connection.cursor() as cursor,
    ):
        try:
            cursor.execute(
                f"ALTER TABLE {CUSTOMER_TABLE} RENAME COLUMN name TO full_name"
            )
            yield
        finally:
            cursor.execute(
                f"ALTER TABLE {CUSTOMER_TABLE} RENAME COLUMN full_name TO name"
            )


class SchemaChange(Scenario):
    name = "schema-change"
    title = "rename a customer-table column while orders are read"

    def run(self, ctx: ScenarioContext) -> None:
        customer = ctx.register_known("Schema Case")
        ctx.place_order(customer["id"])
        order_id = ctx.orders[-1] if ctx.orders else None
        with customer_column_renamed(ctx.run.database_url("customer")):
            for _ in range(READS):
                self._read_order(ctx, order_id)

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

"""The customer table changes shape while orders are read.

The customer service ships a migration: ``customers/proposed_migrations/
rename_customer_name`` renames the customer's ``name`` to ``full_name``,
applied by Django's migration machinery (``manage.py --service customer
rehearse_migration``), exactly as a release would; meanwhile a client reads
orders from the order service. Only an order service that reads the
customer table itself can break. The release is rolled back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests

from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario
from stack.platform_run import PlatformRun

READS = 5
MIGRATION = "rename_customer_name"


@contextmanager
def customer_migration_applied(run: PlatformRun) -> Iterator[None]:
    """The customer service's proposed migration is applied meanwhile.

    It commits at once, so every service process sees the new shape; it is
    reverted afterwards, so the next scenario starts from the shipped schema.
    """
    run.manage("customer", "rehearse_migration", MIGRATION)
    try:
        yield
    finally:
        run.manage("customer", "rehearse_migration", MIGRATION, "--revert")


class SchemaChange(Scenario):
    name = "schema-change"
    title = "rename a customer-table column while orders are read"

    def run(self, ctx: ScenarioContext) -> None:
        customer = ctx.register_known("Schema Case")
        ctx.place_order(customer["id"])
        order_id = ctx.orders[-1] if ctx.orders else None
        with customer_migration_applied(ctx.run):
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

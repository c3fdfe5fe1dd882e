"""The walkthrough: one scenario, run under each built approach, measured.

Scenario: register a customer, place two orders, delete the customer; then
register a second customer, stop the customer service and try to place an
order. The numbers come from the databases and the HTTP answers, not from
what the code meant to do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

import requests

from lab.client import PlatformClient
from shared_events.approaches import APPROACHES, Approach
from stack import environment
from stack.consistency import orphan_orders_between
from stack.platform_run import PlatformRun, running_platform

DEMO_PREFIX = "demo_"


@dataclass
class WalkthroughResult:
    approach: str
    orphan_orders: int
    placements_while_down: int
    failed_placements: dict[str, int]
    seconds: float

    @property
    def failed_placement_count(self) -> int:
        return sum(self.failed_placements.values())

    def lesson(self) -> str:
        parts = []
        if self.orphan_orders:
            parts.append(
                f"deleting the customer left {self.orphan_orders} open orders "
                "behind: nothing told the order service"
            )
        else:
            parts.append("deleting the customer left no orphan orders")
        if self.failed_placement_count:
            statuses = ", ".join(
                f"{count} x {status}"
                for status, count in sorted(self.failed_placements.items())
            )
            parts.append(
                f"with the customer service down, {self.failed_placement_count} of "
                f"{self.placements_while_down} placements failed ({statuses}): the "
                "synchronous call couples the services' availability"
            )
        else:
            parts.append(
                "with the customer service down, orders were still placed"
                + (
                    ", because both services share one database (and its schema)"
                    if APPROACHES[Approach(self.approach)].shares_database
                    else ""
                )
            )
        return "; ".join(parts) + "."


def run_scenario(run: PlatformRun) -> WalkthroughResult:
    started = time.monotonic()
    client = PlatformClient(
        customer_url=run.url("customer"), order_url=run.url("order"), token=run.token
    )
    alice = client.register_customer(
        name="Alice Example", email="alice@example.com", address="1 Main Street"
    )
    for sku, quantity, price in [("BOOK-1", 1, Decimal("12.50")), ("PEN-2", 3, "1.99")]:
        response = client.place_order(
            customer_id=alice["id"], lines=[(sku, quantity, Decimal(price))]
        )
        response.raise_for_status()
    client.delete_customer(alice["id"])
    orphans = orphan_orders_between(
        approach=run.approach,
        order_database_url=run.database_url("order"),
        customer_database_url=run.database_url("customer"),
    ).orphan_orders

    bob = client.register_customer(
        name="Bob Example", email="bob@example.com", address="2 Side Street"
    )
    run.stop_service("customer")
    failed: dict[str, int] = {}
    attempts = 1
    try:
        response = client.place_order(
            customer_id=bob["id"], lines=[("MUG-3", 1, Decimal("8.00"))]
        )
        if response.status_code >= 400:
            failed[str(response.status_code)] = 1
    except requests.RequestException as error:
        failed[error.__class__.__name__] = 1
    return WalkthroughResult(
        approach=run.approach,
        orphan_orders=len(orphans),
        placements_while_down=attempts,
        failed_placements=failed,
        seconds=time.monotonic() - started,
    )


def render_table(results: list[WalkthroughResult]) -> str:
    header = (
        f"{'approach':<16} {'orphan orders':>13}  {'failed placements':>17}  lesson"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        failed = f"{result.failed_placement_count} of {result.placements_while_down}"
        if result.failed_placements:
            failed += f" ({', '.join(sorted(result.failed_placements))})"
        lines.append(
            f"{result.approach:<16} {result.orphan_orders:>13}  {failed:>17}  "
            f"{result.lesson()}"
        )
    return "\n".join(lines)


def run_walkthrough(*, approaches: list[str] | None = None) -> int:
    chosen = approaches or [a.value for a, info in APPROACHES.items() if info.built]
    for name in chosen:
        if not APPROACHES[Approach(name)].built:
            print(f"{name}: not built yet in this version; skipped.")
    chosen = [name for name in chosen if APPROACHES[Approach(name)].built]
    environment.ensure_local_secrets()
    server_url = environment.ensure_database_server()
    print(f"PostgreSQL: {server_url}")
    results = []
    for index, name in enumerate(chosen, start=1):
        info = APPROACHES[Approach(name)]
        print(f"[{index}/{len(chosen)}] {info.label}: starting the platform...")
        with running_platform(
            approach=name, server_url=server_url, prefix=DEMO_PREFIX
        ) as run:
            print(
                f"      customer service {run.url('customer')}, "
                f"order service {run.url('order')}; running the scenario..."
            )
            result = run_scenario(run)
        results.append(result)
        print(
            f"      orphan orders: {result.orphan_orders}; failed placements while "
            f"the customer service was down: {result.failed_placement_count}"
        )
    print()
    print("Scenario: register a customer, place two orders, delete the customer;")
    print("then stop the customer service and try to place an order.")
    print()
    print(render_table(results))
    return 0

"""The walkthrough: one scenario, run under each built approach, measured.

Scenario: register a customer, place two orders, delete the customer; then
register a second customer, stop the customer service and try to place an
order. Under the event-driven approaches the customer service is also made
to crash between committing the delete and publishing its event, the fault
the paper warns about. The numbers come from the databases and the HTTP
answers, not from what the code meant to do.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

import requests

from lab.client import PlatformClient
from lab.context import wait_for
from observe.consistency import orphan_orders_between
from observe.tables import REPLICA_TABLE
from shared_events.approaches import APPROACHES, Approach
from stack import environment
from stack.connections import fetch_rows
from stack.platform_run import PlatformRun, running_platform

DEMO_PREFIX = "demo_"
# The crash between commit and publish, injected only when a customer is
# deleted, so that registrations still flow.
CRASH_ON_DELETE = "crash_before_publish:CustomerDeleted"
SETTLE_SECONDS = 10.0
REPLICA_WAIT_SECONDS = 15.0


@dataclass
class WalkthroughResult:
    approach: str
    orphan_orders: int
    placements_while_down: int
    failed_placements: dict[str, int]
    fault: str = ""
    producer_crashed: bool = False
    settled_after: float | None = None
    replica_lag: float | None = None
    read_models_settled_after: float | None = None
    lag_ms: dict[str, float] = field(default_factory=dict)
    audit_differences: int | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def failed_placement_count(self) -> int:
        return sum(self.failed_placements.values())

    @property
    def info(self):
        return APPROACHES[Approach(self.approach)]

    def lesson(self) -> str:
        parts = [self._delete_lesson(), self._outage_lesson()]
        if self.info.read_side:
            parts.append(self._read_side_lesson())
        return "; ".join(parts) + "."

    def _read_side_lesson(self) -> str:
        if self.read_models_settled_after is None:
            return "the read models did NOT show the delete within the wait"
        lag = ""
        if self.lag_ms:
            lag = (
                f", event-to-read-model lag p50 {self.lag_ms['p50']:.0f} ms, "
                f"p99 {self.lag_ms['p99']:.0f} ms"
            )
        audit = ""
        if self.audit_differences is not None:
            audit = f"; the audit found {self.audit_differences} differences"
        return (
            "the query API's read models showed the delete after "
            f"{self.read_models_settled_after:.1f}s{lag}{audit}"
        )

    def _delete_lesson(self) -> str:
        if self.orphan_orders and self.producer_crashed:
            return (
                "the customer service died between committing the delete and "
                f"publishing CustomerDeleted: the event is lost for good and "
                f"{self.orphan_orders} orders stay open for a customer who is gone"
            )
        if self.orphan_orders:
            return (
                f"deleting the customer left {self.orphan_orders} open orders "
                "behind: nothing told the order service"
            )
        if self.producer_crashed:
            return (
                "the same crash lost nothing: CustomerDeleted was committed in the "
                "outbox and the relay published it, so the orders were cancelled "
                f"(consistent after {self.settled_after:.1f}s)"
            )
        if self.info.shares_database:
            return "the database cascaded the delete: no orphan orders"
        if self.settled_after is not None:
            return (
                "CustomerDeleted reached the order service, which cancelled the "
                f"orders (consistent after {self.settled_after:.1f}s)"
            )
        return "deleting the customer left no orphan orders"

    def _outage_lesson(self) -> str:
        if self.failed_placement_count:
            statuses = ", ".join(
                f"{count} x {status}"
                for status, count in sorted(self.failed_placements.items())
            )
            return (
                f"with the customer service down, {self.failed_placement_count} of "
                f"{self.placements_while_down} placements failed ({statuses}): the "
                "synchronous call couples the services' availability"
            )
        if self.info.shares_database:
            reason = "because both services share one database (and its schema)"
        elif self.info.keeps_replica:
            reason = "because the order service checks its own replica of customers"
        else:
            reason = ""
        return f"with the customer service down, orders were still placed {reason}"


def _replicated(run: PlatformRun, customer_id: str) -> bool:
    rows = fetch_rows(
        run.database_url("order"),
        f"SELECT 1 FROM {REPLICA_TABLE} WHERE id = %s AND NOT deleted",
        [customer_id],
    )
    return bool(rows)


def _orphans(run: PlatformRun) -> int:
    report = orphan_orders_between(
        approach=run.approach,
        order_database_url=run.database_url("order"),
        customer_database_url=run.database_url("customer"),
    )
    return len(report.orphan_orders)


def _read_models_show_deleted(
    run: PlatformRun, client: PlatformClient, customer_id: str
) -> bool:
    """Both read models, asked through the query APIs, show the deletion."""
    orders = client.session.get(
        f"{run.url('order')}/api/query/orders/",
        params={"customer_id": customer_id},
        timeout=10,
    )
    summary = client.session.get(
        f"{run.url('customer')}/api/query/customers/{customer_id}/", timeout=10
    )
    if orders.status_code != 200 or summary.status_code != 200:
        return False
    views = orders.json()["results"]
    return (
        len(views) == 2
        and all(v["customer_deleted"] and v["status"] == "cancelled" for v in views)
        and summary.json()["deleted"]
        and summary.json()["open_order_count"] == 0
    )


def run_scenario(run: PlatformRun, *, fault: str = "") -> WalkthroughResult:
    started = time.monotonic()
    keeps_replica = run.info.keeps_replica
    client = PlatformClient(
        customer_url=run.url("customer"), order_url=run.url("order"), token=run.token
    )
    alice = client.register_customer(
        name="Alice Example", email="alice@example.com", address="1 Main Street"
    )
    replica_lag = None
    if keeps_replica:
        replica_lag = wait_for(
            lambda: _replicated(run, alice["id"]), timeout=REPLICA_WAIT_SECONDS
        )
    for sku, quantity, price in [("BOOK-1", 1, "12.50"), ("PEN-2", 3, "1.99")]:
        response = client.place_order(
            customer_id=alice["id"], lines=[(sku, quantity, Decimal(price))]
        )
        response.raise_for_status()

    crashed = False
    try:
        client.delete_customer(alice["id"])
    except requests.ConnectionError:
        crashed = True  # the process died after its commit: the injected fault
    settled_after = None
    if run.uses_events:
        settled_after = wait_for(lambda: _orphans(run) == 0, timeout=SETTLE_SECONDS)
    orphans = _orphans(run)
    read_settled = None
    if run.info.read_side:
        read_settled = wait_for(
            lambda: _read_models_show_deleted(run, client, alice["id"]),
            timeout=SETTLE_SECONDS,
        )

    bob = client.register_customer(
        name="Bob Example", email="bob@example.com", address="2 Side Street"
    )
    if keeps_replica:
        wait_for(lambda: _replicated(run, bob["id"]), timeout=REPLICA_WAIT_SECONDS)
    run.stop_service("customer")
    failed: dict[str, int] = {}
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
        orphan_orders=orphans,
        placements_while_down=1,
        failed_placements=failed,
        fault=fault,
        producer_crashed=crashed,
        settled_after=settled_after,
        replica_lag=replica_lag,
        read_models_settled_after=read_settled,
        seconds=time.monotonic() - started,
    )


def render_table(results: list[WalkthroughResult]) -> str:
    header = (
        f"{'approach':<16} {'fault on delete':<16} {'orphan orders':>13}  "
        f"{'failed placements':>17}  lesson"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        failed = f"{result.failed_placement_count} of {result.placements_while_down}"
        if result.failed_placements:
            failed += f" ({', '.join(sorted(result.failed_placements))})"
        fault = "crash" if result.fault else "-"
        lines.append(
            f"{result.approach:<16} {fault:<16} {result.orphan_orders:>13}  "
            f"{failed:>17}  {result.lesson()}"
        )
    return "\n".join(lines)


def fault_for(approach: str) -> str:
    """Event-driven approaches run with the crash between commit and publish."""
    info = APPROACHES[Approach(approach)]
    return CRASH_ON_DELETE if info.uses_events else ""


@contextmanager
def walkthrough_platform(
    approach: str, *, server_url: str, prefix: str
) -> Iterator[PlatformRun]:
    """A platform for the walkthrough, with the fault ``fault_for`` names."""
    fault = fault_for(approach)
    with running_platform(
        approach=approach,
        server_url=server_url,
        prefix=prefix,
        extra_env={"FAULT_INJECTION": fault} if fault else None,
    ) as run:
        yield run


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
        fault = fault_for(name)
        print(f"[{index}/{len(chosen)}] {info.label}: starting the platform...")
        with walkthrough_platform(
            name, server_url=server_url, prefix=DEMO_PREFIX
        ) as run:
            print(
                f"      customer service {run.url('customer')}, "
                f"order service {run.url('order')}"
                + (f"; fault injected: {fault}" if fault else "")
                + "; running the scenario..."
            )
            result = run_scenario(run, fault=fault)
        results.append(result)
        print(
            f"      orphan orders: {result.orphan_orders}; failed placements while "
            f"the customer service was down: {result.failed_placement_count}"
        )
    print()
    print("Scenario: register a customer, place two orders, delete the customer;")
    print("then stop the customer service and try to place an order. Event-driven")
    print("approaches also crash the customer service between commit and publish")
    print("of the delete.")
    print()
    print(render_table(results))
    return 0

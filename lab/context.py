"""What a scenario works with: the running platform, a client, what it touched."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import requests

from lab.client import PlatformClient
from observe.quiescence import Backlog, BacklogProbe, Quiescence
from observe.tables import REPLICA_TABLE
from stack.connections import fetch_rows
from stack.platform_run import PlatformRun
from stack.processes import ServiceProcess, start_web

# The shortest wait for the platform to go quiet after a scenario; a backlog
# adds to it (lab.scenarios.base.Scenario.settle).
SETTLE_SECONDS = 10.0


@dataclass
class ScenarioContext:
    run: PlatformRun
    client: PlatformClient
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.monotonic)
    customers: list[str] = field(default_factory=list)
    deleted_customers: list[str] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)
    commands_ok: int = 0
    order_service_failures: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    finished: float | None = None
    # Under the event-driven approaches: what is left to relay and apply,
    # when the commands stopped, and how the wait for quiet ended.
    probe: BacklogProbe | None = None
    backlog_at_end: Backlog | None = None
    quiescence: Quiescence | None = None
    # Run once the scenario is measured (a paused worker started again).
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    # What a scenario measures beyond the common measurements, by group
    # (a phase, a kind of read): shown in the report's "scenario figures".
    figures: dict[str, dict[str, float | int | None]] = field(default_factory=dict)
    # Where a long scenario says how far it got (the lab's or the cockpit's
    # progress lines).
    progress: Callable[[str], None] = field(default=lambda line: None)

    @property
    def approach(self) -> str:
        return self.run.approach

    @property
    def keeps_replica(self) -> bool:
        return self.run.info.keeps_replica

    def stop_consumers(self) -> list[str]:
        """Stop every consumer and projector until the scenario is measured."""
        keys = self.run.consumer_keys()
        self.run.pause_workers(keys)
        self.cleanups.append(lambda: self.run.resume_workers(keys))
        return keys

    def start_instance(
        self, service: str, settings: dict[str, str], *, port: int | None = None
    ) -> ServiceProcess:
        """One more web server of ``service``, with these settings on top of the
        platform's, beside the platform's own (which keep theirs); stopped once
        the scenario is measured. The same code on the same databases: a second
        instance, as a load balancer would have."""
        process = start_web(service, env={**self.run.env, **settings}, port=port)
        self.cleanups.append(process.stop)
        return process

    def clean_up(self) -> None:
        while self.cleanups:
            self.cleanups.pop()()

    def query(self, service: str, sql: str, params=(), *, read: bool = False) -> list:
        url = (
            self.run.read_database_url(service)
            if read
            else self.run.database_url(service)
        )
        return fetch_rows(url, sql, params)

    def register(self, name: str) -> dict:
        customer = self.client.register_customer(
            name=name,
            email=f"{name.lower().replace(' ', '.')}@example.com",
            address=f"{len(self.customers) + 1} Lab Street",
        )
        self.customers.append(customer["id"])
        self.commands_ok += 1
        return customer

    def register_known(self, name: str) -> dict:
        """Register a customer and wait until the order service knows it."""
        customer = self.register(name)
        self.wait_replicated(customer["id"])
        return customer

    def wait_replicated(self, customer_id: str, timeout: float = 15.0) -> bool:
        if not self.keeps_replica:
            return True
        return (
            wait_for(
                lambda: bool(
                    self.query(
                        "order",
                        f"SELECT 1 FROM {REPLICA_TABLE} WHERE id = %s AND NOT deleted",
                        [customer_id],
                    )
                ),
                timeout=timeout,
            )
            is not None
        )

    def place_order(self, customer_id: str, *, sku: str = "LAB-1") -> int:
        """Place an order; the HTTP status (or 0 when the connection failed)."""
        try:
            response = self.client.place_order(
                customer_id=customer_id, lines=[(sku, 1, Decimal("10.00"))]
            )
        except requests.RequestException as error:
            key = error.__class__.__name__
            self.order_service_failures[key] = (
                self.order_service_failures.get(key, 0) + 1
            )
            return 0
        if response.status_code == 201:
            self.orders.append(response.json()["id"])
            self.commands_ok += 1
        return response.status_code

    def delete(self, customer_id: str) -> bool:
        """Delete a customer; False when the process died answering (the fault)."""
        try:
            self.client.delete_customer(customer_id)
        except requests.ConnectionError:
            self.deleted_customers.append(customer_id)
            return False
        self.deleted_customers.append(customer_id)
        self.commands_ok += 1
        return True


def wait_for(condition: Callable[[], bool], *, timeout: float) -> float | None:
    """Seconds until condition() held, or None if it never did in time."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            return None
        time.sleep(0.1)

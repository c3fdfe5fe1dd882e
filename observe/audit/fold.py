"""The fold: the write side, as its events say it is.

A few lines of plain Python that share no code with the projections the
auditor judges, so a bug in a projection shows up as a difference instead of
being repeated by the check. The events come from PostgreSQL's
``event_store`` table, or, under ``EVENT_STORE=dynamodb``, from the DynamoDB
event tables (``observe.event_tables``): wherever the write side keeps its
truth.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from observe.audit.connections import AuditError, connected
from observe.event_tables import EventTableError, EventTables
from observe.tables import EVENT_STORE_TABLE

PENDING = "pending"
APPROVED = "approved"
CANCELLED = "cancelled"
REJECTED = "rejected"
OPEN = (PENDING, APPROVED)


@dataclass
class CustomerFact:
    """A customer as its events leave it.

    ``version`` is the version of the last event that changed the customer's
    data: that is what the replica and the read models record (an event that
    changes nothing, like ``CustomerDeletionRejected`` or the credit events,
    moves no copy). ``reservations`` is the customer's side of the credit
    saga: the credit each order holds, by order id.
    """

    customer_id: str
    name: str = ""
    email: str = ""
    address: str = ""
    registered: bool = False
    deleted: bool = False
    version: int = 0
    reservations: dict[str, Decimal] = field(default_factory=dict)
    # The most credit the customer ever held at once.
    most_reserved: Decimal = Decimal("0")

    @property
    def reserved(self) -> Decimal:
        return sum(self.reservations.values(), Decimal("0"))

    def apply(self, event_type: str, payload: Mapping[str, Any], version: int):
        if event_type == "CreditReserved":
            self.reservations[payload["order_id"]] = Decimal(payload["amount"])
            self.most_reserved = max(self.most_reserved, self.reserved)
            return
        if event_type == "CreditReleased":
            self.reservations.pop(payload["order_id"], None)
            return
        if event_type in ("CustomerRegistered", "CustomerImported"):
            self.name, self.email = payload["name"], payload["email"]
            self.address = payload["address"]
            self.registered, self.deleted = True, False
            # An imported customer opens with the credit its orders held.
            for order_id, amount in payload.get("reservations", {}).items():
                self.reservations[order_id] = Decimal(amount)
            self.most_reserved = max(self.most_reserved, self.reserved)
        elif event_type == "CustomerRenamed":
            self.name = payload["name"]
        elif event_type == "CustomerEmailChanged":
            self.email = payload["email"]
        elif event_type == "CustomerAddressChanged":
            self.address = payload["address"]
        elif event_type == "CustomerDeleted":
            self.deleted = True
        else:
            return
        self.version = version


@dataclass
class OrderFact:
    """An order as its events leave it (``status`` "rejected" with no lines:
    refused outright, never placed)."""

    order_id: str
    customer_id: str = ""
    status: str = ""
    total: Decimal = Decimal("0")
    lines: list[dict[str, Any]] = field(default_factory=list)
    placed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str = ""
    version: int = 0

    def apply(
        self,
        event_type: str,
        payload: Mapping[str, Any],
        version: int,
        occurred_at: datetime,
    ):
        if event_type == "OrderPlaced":
            self.customer_id = payload["customer_id"]
            self.status, self.total = PENDING, Decimal(payload["total"])
            self.lines, self.placed_at = list(payload["lines"]), occurred_at
        elif event_type == "OrderImported":
            # An order from before events (strangler.introduce_events), whole.
            self.customer_id, self.status = payload["customer_id"], payload["status"]
            self.total, self.lines = Decimal(payload["total"]), list(payload["lines"])
            self.placed_at = occurred_at
        elif event_type == "OrderApproved":
            self.status = APPROVED
        elif event_type == "OrderCancelled":
            self.status, self.cancel_reason = CANCELLED, payload["reason"]
            self.cancelled_at = occurred_at
        elif event_type == "OrderRejected":
            self.customer_id, self.status = payload["customer_id"], REJECTED
        else:
            return
        self.version = version

    @property
    def was_placed(self) -> bool:
        return bool(self.lines)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


@dataclass
class WriteSideFold:
    customers: dict[str, CustomerFact] = field(default_factory=dict)
    orders: dict[str, OrderFact] = field(default_factory=dict)
    events: int = 0

    def apply(self, row: Mapping[str, Any]) -> None:
        aggregate_id = row["aggregate_id"]
        payload = row["payload"]
        if isinstance(payload, str):
            payload = json.loads(payload)
        if row["aggregate_type"] == "Customer":
            fact = self.customers.setdefault(aggregate_id, CustomerFact(aggregate_id))
            fact.apply(row["event_type"], payload, row["aggregate_version"])
        elif row["aggregate_type"] == "Order":
            order = self.orders.setdefault(aggregate_id, OrderFact(aggregate_id))
            order.apply(
                row["event_type"],
                payload,
                row["aggregate_version"],
                row["occurred_at"],
            )
        self.events += 1

    def placed_orders(self) -> list[OrderFact]:
        return [order for order in self.orders.values() if order.was_placed]

    def known_customers(self) -> dict[str, CustomerFact]:
        """Customers with data, and customers only an OrderPlaced mentions."""
        known = {key: fact for key, fact in self.customers.items() if fact.version}
        for order in self.placed_orders():
            known.setdefault(order.customer_id, CustomerFact(order.customer_id))
        return known


def fold_event_stores(urls: list[str]) -> WriteSideFold:
    """Fold every event store named, aggregate by aggregate, version by version."""
    fold = WriteSideFold()
    for url in urls:
        with connected(url) as connection, connection.cursor("fold") as cursor:
            cursor.itersize = 2000
            cursor.execute(
                "SELECT aggregate_type, aggregate_id::text AS aggregate_id, "
                "aggregate_version, event_type, payload, occurred_at "
                f"FROM {EVENT_STORE_TABLE} ORDER BY aggregate_id, aggregate_version"
            )
            names = [
                "aggregate_type",
                "aggregate_id",
                "aggregate_version",
                "event_type",
                "payload",
                "occurred_at",
            ]
            for row in cursor:
                fold.apply(dict(zip(names, row, strict=True)))
    return fold


def fold_event_tables(tables: EventTables) -> WriteSideFold:
    """Fold the DynamoDB event tables (``EVENT_STORE=dynamodb``) the same way:
    each commit's envelopes, aggregate by aggregate, version by version."""
    fold = WriteSideFold()
    try:
        for envelope in tables.envelopes():
            fold.apply(
                {
                    "aggregate_type": envelope.aggregate_type,
                    "aggregate_id": envelope.aggregate_id,
                    "aggregate_version": envelope.aggregate_version,
                    "event_type": envelope.event_type,
                    "payload": envelope.payload,
                    "occurred_at": envelope.occurred_at,
                }
            )
    except EventTableError as error:
        raise AuditError(str(error)) from None
    return fold

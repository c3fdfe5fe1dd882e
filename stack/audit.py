"""The auditor: does every copy of the data agree with what really happened?

Each approach keeps copies of data it does not own, and each copy can drift:

- approaches 1 and 2: orders can outlive their customer (orphan orders);
- approach 3 (dual write): the order service's customer replica misses
  every event the customer service failed to publish; a replica row still
  live for a customer who is gone is a lost ``CustomerDeleted``;
- approach 4 (event sourcing): nothing is lost, but the replica trails the
  event store (the lag) and the outbox backlog shows by how much;
- approach 5 (CQRS): the read models (``CustomerSummary``, ``OrderView``)
  are one more copy, built from BOTH services' events.

What a learner should notice: the auditor reads every database directly
with psycopg2 and computes the expected state itself, folding the event
stores with a few lines of plain Python below. It shares no code with the
projections it judges, so a bug in a projection shows up as a difference
instead of being repeated by the check.

Not compared, on purpose: ``projected_at`` and the ``last_event_*`` columns.
They record when and by which event a row was last touched, and events of
different aggregates may be projected in any order, so two correct read
models can differ there.

``--repair`` rebuilds what differs: approach 5's read models by replaying
the events (``manage.py --service X rebuild_read_models``), the replica of
approaches 3 and 4 from the customer table or the fold. It never cancels an
orphan order: that is the order service's decision, made by its own command.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg2

from shared_events.approaches import Approach, ApproachInfo, approach_info
from shared_events.configuration import (
    REPO_DIR,
    current_approach,
    database_url,
    load_env,
    read_database_url,
)
from stack.consistency import OrphanOrder, orphan_orders_between

REPLICA_TABLE = "orders_customer_replica"
SUMMARY_TABLE = "read_customer_summary"
SUMMARY_ORDER_TABLE = "read_customer_summary_order"
ORDER_VIEW_TABLE = "read_order_view"
ORDER_VIEW_CUSTOMER_TABLE = "read_order_view_customer"

# Which service's read database holds each read-model table, and so which
# service's read models a repair rebuilds.
READ_MODEL_SERVICE = {
    SUMMARY_TABLE: "customer",
    SUMMARY_ORDER_TABLE: "customer",
    ORDER_VIEW_TABLE: "order",
    ORDER_VIEW_CUSTOMER_TABLE: "order",
}

PLACED = "placed"
CANCELLED = "cancelled"
REJECTED = "rejected"


class AuditError(RuntimeError):
    """The audit could not read what it needs; the message says what to do."""


# The databases ----------------------------------------------------------------


@dataclass(frozen=True)
class AuditDatabases:
    """Where the auditor looks: each service's write database, and read database."""

    customer: str
    order: str
    customer_read: str | None = None
    order_read: str | None = None

    @classmethod
    def from_environment(cls, *, env=None, approach: Approach | str | None = None):
        env = env or load_env()
        approach = approach or current_approach(env)
        read_side = approach_info(approach).read_side
        return cls(
            customer=database_url(env=env, service="customer", approach=approach),
            order=database_url(env=env, service="order", approach=approach),
            customer_read=(
                read_database_url(env=env, service="customer") if read_side else None
            ),
            order_read=(
                read_database_url(env=env, service="order") if read_side else None
            ),
        )

    def as_environment(self) -> dict[str, str]:
        """The same databases as the services' settings name them."""
        values = {
            "CUSTOMER_DATABASE_URL": self.customer,
            "ORDER_DATABASE_URL": self.order,
            "CUSTOMER_READ_DATABASE_URL": self.customer_read,
            "ORDER_READ_DATABASE_URL": self.order_read,
        }
        return {key: value for key, value in values.items() if value}


@contextmanager
def _connected(url: str, *, readonly: bool = True) -> Iterator[Any]:
    try:
        connection = psycopg2.connect(url, connect_timeout=5)
    except psycopg2.OperationalError as error:
        raise AuditError(f"cannot reach {_safe(url)}: {error}".strip()) from None
    try:
        connection.set_session(readonly=readonly, autocommit=False)
        yield connection
        if not readonly:
            connection.commit()
    except psycopg2.errors.UndefinedTable as error:
        raise AuditError(
            f"{_safe(url)}: {error.pgerror.splitlines()[0]}; has this approach's "
            "database been migrated? (python manage.py migrate)"
        ) from None
    finally:
        connection.close()


def _safe(url: str) -> str:
    """A URL fit for a report: no password."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


def _rows(connection, statement: str, params=()) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# The fold: the write side, as its events say it is ----------------------------


@dataclass
class CustomerFact:
    """A customer as its events leave it.

    ``version`` is the version of the last event that changed the customer's
    data: that is what the replica and the read models record (an event that
    changes nothing, like ``CustomerDeletionRejected``, moves no copy).
    """

    customer_id: str
    name: str = ""
    email: str = ""
    address: str = ""
    registered: bool = False
    deleted: bool = False
    version: int = 0

    def apply(self, event_type: str, payload: Mapping[str, Any], version: int):
        if event_type == "CustomerRegistered":
            self.name, self.email = payload["name"], payload["email"]
            self.address = payload["address"]
            self.registered, self.deleted = True, False
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
    """An order as its events leave it (``status`` "rejected": never placed)."""

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
            self.status, self.total = PLACED, Decimal(payload["total"])
            self.lines, self.placed_at = list(payload["lines"]), occurred_at
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
        return self.status in (PLACED, CANCELLED)


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
        with _connected(url) as connection, connection.cursor("fold") as cursor:
            cursor.itersize = 2000
            cursor.execute(
                "SELECT aggregate_type, aggregate_id::text AS aggregate_id, "
                "aggregate_version, event_type, payload, occurred_at "
                "FROM event_store ORDER BY aggregate_id, aggregate_version"
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


# Expected rows -----------------------------------------------------------------


def expected_replica(fold: WriteSideFold) -> dict[str, dict[str, Any]]:
    """orders_customer_replica as the customer events say it should be."""
    return {
        customer_id: {
            "name": fact.name,
            "email": fact.email,
            "address": fact.address,
            "version": fact.version,
            "deleted": fact.deleted,
        }
        for customer_id, fact in fold.customers.items()
        if fact.registered
    }


def expected_customer_summaries(fold: WriteSideFold) -> dict[str, dict[str, Any]]:
    rows = {}
    for customer_id, fact in fold.known_customers().items():
        rows[customer_id] = {
            "name": fact.name,
            "email": fact.email,
            "address": fact.address,
            "registered": fact.registered,
            "deleted": fact.deleted,
            "customer_version": fact.version,
            "order_count": 0,
            "open_order_count": 0,
            "lifetime_value": Decimal("0"),
            "last_order_at": None,
        }
    for order in fold.placed_orders():
        row = rows[order.customer_id]
        row["order_count"] += 1
        if order.status == PLACED:
            row["open_order_count"] += 1
            row["lifetime_value"] += order.total
        if row["last_order_at"] is None or order.placed_at > row["last_order_at"]:
            row["last_order_at"] = order.placed_at
    return rows


def expected_summary_orders(fold: WriteSideFold) -> dict[str, dict[str, Any]]:
    return {
        order.order_id: {
            "customer_id": order.customer_id,
            "total": order.total,
            "status": order.status,
        }
        for order in fold.placed_orders()
    }


def expected_order_views(fold: WriteSideFold) -> dict[str, dict[str, Any]]:
    rows = {}
    for order in fold.placed_orders():
        customer = fold.customers.get(order.customer_id) or CustomerFact("")
        rows[order.order_id] = {
            "order_version": order.version,
            "customer_id": order.customer_id,
            "customer_name": customer.name,
            "customer_email": customer.email,
            "customer_address": customer.address,
            "customer_deleted": customer.deleted,
            "status": order.status,
            "cancel_reason": order.cancel_reason,
            "total": order.total,
            "lines": order.lines,
            "placed_at": order.placed_at,
            "cancelled_at": order.cancelled_at,
        }
    return rows


def expected_order_view_customers(fold: WriteSideFold) -> dict[str, dict[str, Any]]:
    return {
        customer_id: {
            "customer_version": fact.version,
            "name": fact.name,
            "email": fact.email,
            "address": fact.address,
            "deleted": fact.deleted,
        }
        for customer_id, fact in fold.known_customers().items()
    }


# Comparing ---------------------------------------------------------------------


@dataclass
class RowDifference:
    """One row that is not what it should be.

    ``kind``: "missing" (expected, not there), "extra" (there, not expected)
    or "different" (``fields`` names each differing column).
    """

    table: str
    row_id: str
    kind: str
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    note: str = ""
    # What the row should hold (None: it should not exist); used by --repair.
    expected: dict[str, Any] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "row_id": self.row_id,
            "kind": self.kind,
            "fields": {
                name: {side: _plain(value) for side, value in values.items()}
                for name, values in self.fields.items()
            },
            "note": self.note,
        }

    def describe(self) -> str:
        text = f"{self.table} {self.row_id}: {self.kind}"
        if self.fields:
            text += ": " + "; ".join(
                f"{name} expected {_shown(values['expected'])} "
                f"found {_shown(values['actual'])}"
                for name, values in self.fields.items()
            )
        if self.note:
            text += f" ({self.note})"
        return text


def _normal(value: Any) -> Any:
    """One spelling per value: money as Decimal, order lines as tuples."""
    if isinstance(value, list):
        return tuple(_normal(item) for item in value)
    if isinstance(value, dict):
        if "unit_price" in value:
            return (
                value.get("sku"),
                int(value.get("quantity", 0)),
                Decimal(str(value.get("unit_price"))),
            )
        return tuple(sorted((key, _normal(item)) for key, item in value.items()))
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _shown(value: Any) -> str:
    plain = _plain(value)
    return json.dumps(plain) if isinstance(plain, str | list | dict) else str(plain)


def compare_rows(
    *,
    table: str,
    expected: Mapping[str, Mapping[str, Any]],
    actual: Mapping[str, Mapping[str, Any]],
    notes: Mapping[str, str] | None = None,
    columns: Sequence[str] | None = None,
) -> list[RowDifference]:
    """Every missing, extra and different row, in a stable order.

    ``columns``: the columns compared (default: every column expected).
    """
    notes = notes or {}
    differences = []
    for row_id in sorted(expected.keys() | actual.keys()):
        want, have = expected.get(row_id), actual.get(row_id)
        if have is None:
            differences.append(
                RowDifference(
                    table,
                    row_id,
                    "missing",
                    note=notes.get("missing", ""),
                    expected=dict(want),
                )
            )
        elif want is None:
            differences.append(
                RowDifference(table, row_id, "extra", note=notes.get("extra", ""))
            )
        else:
            fields = {
                name: {"expected": value, "actual": have.get(name)}
                for name, value in want.items()
                if (columns is None or name in columns)
                and _normal(value) != _normal(have.get(name))
            }
            if fields:
                differences.append(
                    RowDifference(
                        table,
                        row_id,
                        "different",
                        fields,
                        note=notes.get("different", ""),
                        expected=dict(want),
                    )
                )
    return differences


def _table(url: str, table: str, key: str, columns: list[str]) -> dict[str, dict]:
    with _connected(url) as connection:
        rows = _rows(
            connection,
            f"SELECT {', '.join([f'{key}::text AS row_id', *columns])} FROM {table}",
        )
    for row in rows:
        # Text whichever way this process's psycopg2 was set up (Django
        # registers a UUID adapter and a raw-text JSON loader of its own).
        if row.get("customer_id") is not None:
            row["customer_id"] = str(row["customer_id"])
        if isinstance(row.get("lines"), str):
            row["lines"] = json.loads(row["lines"])
    return {row.pop("row_id"): row for row in rows}


# The report --------------------------------------------------------------------


@dataclass
class OutboxBacklog:
    service: str
    unpublished: int
    oldest_age_seconds: float | None


@dataclass
class AuditReport:
    approach: str
    checks: list[str] = field(default_factory=list)
    rows_checked: dict[str, int] = field(default_factory=dict)
    differences: list[RowDifference] = field(default_factory=list)
    open_orders: int = 0
    orphan_orders: list[OrphanOrder] = field(default_factory=list)
    lost_events: int = 0
    outbox: list[OutboxBacklog] = field(default_factory=list)
    events_folded: int | None = None
    waited_seconds: float = 0.0
    repairs: list[str] = field(default_factory=list)
    before_repair: AuditReport | None = None

    @property
    def consistent(self) -> bool:
        return not self.differences and not self.orphan_orders

    def to_dict(self) -> dict[str, Any]:
        data = {
            "approach": self.approach,
            "consistent": self.consistent,
            "checks": self.checks,
            "rows_checked": self.rows_checked,
            "differences": [difference.to_dict() for difference in self.differences],
            "open_orders": self.open_orders,
            "orphan_orders": [
                {"order_id": o.order_id, "customer_id": o.customer_id}
                for o in self.orphan_orders
            ],
            "lost_events": self.lost_events,
            "outbox_backlog": [
                {
                    "service": backlog.service,
                    "unpublished": backlog.unpublished,
                    "oldest_age_seconds": backlog.oldest_age_seconds,
                }
                for backlog in self.outbox
            ],
            "events_folded": self.events_folded,
            "waited_seconds": round(self.waited_seconds, 3),
        }
        if self.before_repair is not None:
            data["repairs"] = self.repairs
            data["before_repair"] = self.before_repair.to_dict()
        return data


def render_audit(report: AuditReport, *, as_json: bool = False) -> str:
    if as_json:
        return json.dumps(report.to_dict(), indent=2)
    lines = []
    if report.before_repair is not None:
        lines += [render_audit(report.before_repair), "", "Repairs:"]
        lines += [f"  {action}" for action in report.repairs] or ["  none needed"]
        lines += ["", "After repair:"]
    verdict = "CONSISTENT" if report.consistent else "DIFFERENCES FOUND"
    lines.append(f"Approach: {approach_info(report.approach).label}")
    lines.append(f"Verdict: {verdict}")
    lines.append("Checks: " + "; ".join(report.checks))
    if report.events_folded is not None:
        lines.append(f"Events folded from the event stores: {report.events_folded}")
    if report.waited_seconds >= 0.05:
        lines.append(f"Waited for lag to settle: {report.waited_seconds:.1f} s")
    for table, count in report.rows_checked.items():
        lines.append(f"  {table}: {count} rows expected")
    lines.append(f"Differences: {len(report.differences)}")
    lines += [f"  {difference.describe()}" for difference in report.differences]
    if report.lost_events:
        lines.append(
            f"Lost events (replica rows live for customers that are gone): "
            f"{report.lost_events}"
        )
    for backlog in report.outbox:
        age = (
            f", oldest {backlog.oldest_age_seconds:.1f} s"
            if backlog.oldest_age_seconds is not None
            else ""
        )
        lines.append(
            f"Outbox backlog ({backlog.service}): {backlog.unpublished} "
            f"unpublished{age}"
        )
    lines.append(
        f"Orphan orders: {len(report.orphan_orders)} of {report.open_orders} open"
    )
    for orphan in report.orphan_orders:
        lines.append(f"  order {orphan.order_id}  customer {orphan.customer_id} (gone)")
    return "\n".join(lines)


# The checks --------------------------------------------------------------------


def _check_orphans(report: AuditReport, databases: AuditDatabases) -> None:
    orphans = orphan_orders_between(
        approach=report.approach,
        order_database_url=databases.order,
        customer_database_url=databases.customer,
    )
    report.checks.append("orphan orders")
    report.open_orders = orphans.open_orders
    report.orphan_orders = orphans.orphan_orders


def _actual_replica(databases: AuditDatabases) -> dict[str, dict[str, Any]]:
    return _table(
        databases.order,
        REPLICA_TABLE,
        "id",
        ["name", "email", "address", "version", "deleted"],
    )


def _check_replica_against_table(
    report: AuditReport, databases: AuditDatabases
) -> None:
    """Approach 3: there is no history, only the customer table to compare with."""
    with _connected(databases.customer) as connection:
        customers = _rows(
            connection,
            "SELECT id::text AS id, name, email, address, version "
            "FROM customers_customer",
        )
    expected = {row.pop("id"): {**row, "deleted": False} for row in customers}
    actual = _actual_replica(databases)
    # A deleted customer's row is gone from the customer table; a replica row
    # marked deleted for it is exactly right, so it is left out of the check.
    actual = {
        key: row for key, row in actual.items() if key in expected or not row["deleted"]
    }
    differences = compare_rows(
        table=REPLICA_TABLE,
        expected=expected,
        actual=actual,
        # Not the version: an event that changes no customer data (say
        # CustomerDeletionRejected) moves the table's version, not the replica's.
        columns=["name", "email", "address", "deleted"],
        notes={
            "missing": "CustomerRegistered never applied: lost, or still on its way",
            "extra": "live in the replica, gone from the customer service: "
            "CustomerDeleted lost",
            "different": "a change event lost, or still on its way",
        },
    )
    report.checks.append("customer replica vs customer table")
    report.rows_checked[REPLICA_TABLE] = len(expected)
    report.lost_events = sum(1 for d in differences if d.kind == "extra")
    report.differences += differences


def _check_replica_against_fold(
    report: AuditReport, databases: AuditDatabases, fold: WriteSideFold
) -> None:
    expected = expected_replica(fold)
    report.checks.append("customer replica vs customer event store")
    report.rows_checked[REPLICA_TABLE] = len(expected)
    report.differences += compare_rows(
        table=REPLICA_TABLE,
        expected=expected,
        actual=_actual_replica(databases),
        notes={
            "missing": "CustomerRegistered not applied yet (lag)",
            "extra": "no customer events at all for this id",
            "different": "the replica trails the event store (lag)",
        },
    )


def _check_outbox(report: AuditReport, databases: AuditDatabases) -> None:
    report.checks.append("outbox backlog")
    for service, url in (("customer", databases.customer), ("order", databases.order)):
        with _connected(url) as connection:
            (row,) = _rows(
                connection,
                "SELECT count(*) AS unpublished, "
                "EXTRACT(EPOCH FROM now() - min(created_at))::float AS oldest "
                "FROM event_outbox WHERE published_at IS NULL",
            )
        report.outbox.append(
            OutboxBacklog(
                service=service,
                unpublished=row["unpublished"],
                oldest_age_seconds=row["oldest"],
            )
        )


READ_MODEL_CHECKS: list[
    tuple[str, str, str, Callable[[WriteSideFold], dict[str, dict[str, Any]]]]
] = [
    # (table, key column, which read database, expected rows)
    (SUMMARY_TABLE, "customer_id", "customer_read", expected_customer_summaries),
    (SUMMARY_ORDER_TABLE, "order_id", "customer_read", expected_summary_orders),
    (ORDER_VIEW_TABLE, "order_id", "order_read", expected_order_views),
    (
        ORDER_VIEW_CUSTOMER_TABLE,
        "customer_id",
        "order_read",
        expected_order_view_customers,
    ),
]


def _check_read_models(
    report: AuditReport, databases: AuditDatabases, fold: WriteSideFold
) -> None:
    report.checks.append("read models vs both event stores")
    for table, key, database, expected_rows in READ_MODEL_CHECKS:
        url = getattr(databases, database)
        if not url:
            raise AuditError(f"approach {report.approach} needs the {database} URL")
        expected = expected_rows(fold)
        report.rows_checked[table] = len(expected)
        report.differences += compare_rows(
            table=table,
            expected=expected,
            # The columns compared are the ones the fold has a value for.
            actual=_table(url, table, key, list(next(iter(expected.values()), {}))),
            notes={
                "missing": "not projected (lag, or lost from the read model)",
                "extra": "no event made this row",
            },
        )


def audit_consistency(
    approach: Approach | str, databases: AuditDatabases
) -> AuditReport:
    """Compare every copy the approach keeps with what it is a copy of.

    Approaches 1 and 2: orphan orders. Approach 3: the replica against the
    customer table, plus orphans. Approach 4: the replica against the fold
    of the customer event store, orphans, the outbox backlog. Approach 5:
    the read models against the fold of both event stores, plus approach 4's
    checks.
    """
    info: ApproachInfo = approach_info(approach)
    report = AuditReport(approach=info.approach.value)
    event_sourced = info.customer_persistence == "event_sourced"
    fold = None
    if event_sourced:
        stores = [databases.customer]
        if info.order_persistence == "event_sourced":
            stores.append(databases.order)
        fold = fold_event_stores(stores)
        report.events_folded = fold.events
    if info.read_side:
        _check_read_models(report, databases, fold)
    if info.customer_lookup == "replica":
        if fold is not None:
            _check_replica_against_fold(report, databases, fold)
        else:
            _check_replica_against_table(report, databases)
    _check_orphans(report, databases)
    if event_sourced:
        _check_outbox(report, databases)
    return report


def audit_until_settled(
    approach: Approach | str,
    databases: AuditDatabases,
    *,
    wait_seconds: float = 0.0,
    interval: float = 0.5,
) -> AuditReport:
    """Audit again until consistent or ``wait_seconds`` have passed.

    Under approaches 4 and 5 a difference may only be lag: an event on its
    way. Waiting tells lag (it goes away) from drift (it stays).
    """
    started = time.monotonic()
    while True:
        attempt_started = time.monotonic()
        report = audit_consistency(approach, databases)
        if report.consistent or time.monotonic() - started + interval > wait_seconds:
            report.waited_seconds = attempt_started - started
            return report
        time.sleep(interval)


# Repair ------------------------------------------------------------------------


def repair_replica(report: AuditReport, databases: AuditDatabases) -> list[str]:
    """Write the expected values into every replica row found different."""
    actions = []
    with (
        _connected(databases.order, readonly=False) as connection,
        connection.cursor() as cursor,
    ):
        for difference in report.differences:
            if difference.table != REPLICA_TABLE:
                continue
            if difference.expected is not None:
                row = difference.expected
                cursor.execute(
                    f"INSERT INTO {REPLICA_TABLE} "
                    "(id, name, email, address, version, deleted, updated_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, now()) "
                    "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, "
                    "email = EXCLUDED.email, address = EXCLUDED.address, "
                    "version = EXCLUDED.version, deleted = EXCLUDED.deleted, "
                    "updated_at = now()",
                    [
                        difference.row_id,
                        row["name"],
                        row["email"],
                        row["address"],
                        row["version"],
                        row["deleted"],
                    ],
                )
                actions.append(f"replica {difference.row_id}: set as expected")
            elif report.events_folded is None:
                # Approach 3: the customer is gone; the replica says so now.
                cursor.execute(
                    f"UPDATE {REPLICA_TABLE} SET deleted = true, "
                    "updated_at = now() WHERE id = %s",
                    [difference.row_id],
                )
                actions.append(f"replica {difference.row_id}: marked deleted")
            else:
                cursor.execute(
                    f"DELETE FROM {REPLICA_TABLE} WHERE id = %s",
                    [difference.row_id],
                )
                actions.append(f"replica {difference.row_id}: removed")
    return actions


def rebuild_read_models(
    approach: Approach | str, services: list[str], databases: AuditDatabases
) -> list[str]:
    """Replay the events into fresh read models, one service after the other."""
    from stack.processes import service_environment

    actions = []
    for service in services:
        command = [
            sys.executable,
            str(REPO_DIR / "manage.py"),
            "--service",
            service,
            "rebuild_read_models",
            "--restart",
        ]
        completed = subprocess.run(
            command,
            cwd=REPO_DIR,
            env=service_environment(
                service,
                {
                    "ARCHITECTURE_APPROACH": approach_info(approach).approach.value,
                    **databases.as_environment(),
                },
            ),
            capture_output=True,
            text=True,
        )
        if completed.returncode != 0:
            raise AuditError(
                f"rebuild_read_models failed for the {service} service "
                f"(exit {completed.returncode}):\n{completed.stdout[-1500:]}"
                f"\n{completed.stderr[-1500:]}"
            )
        last_line = (completed.stdout.strip().splitlines() or [""])[-1]
        actions.append(f"{service} read models rebuilt by replay: {last_line}")
    return actions


def repair(report: AuditReport, databases: AuditDatabases) -> list[str]:
    """Repair what the report found, as far as the auditor may."""
    actions = []
    services = sorted(
        {
            READ_MODEL_SERVICE[difference.table]
            for difference in report.differences
            if difference.table in READ_MODEL_SERVICE
        }
    )
    if services:
        actions += rebuild_read_models(report.approach, services, databases)
    actions += repair_replica(report, databases)
    if report.orphan_orders:
        actions.append(
            f"{len(report.orphan_orders)} orphan orders left as they are: cancelling "
            "an order is the order service's decision, not the auditor's"
        )
    return actions


def audit_and_repair(
    approach: Approach | str,
    databases: AuditDatabases,
    *,
    wait_seconds: float = 0.0,
) -> AuditReport:
    before = audit_until_settled(approach, databases, wait_seconds=wait_seconds)
    if before.consistent:
        return before
    actions = repair(before, databases)
    after = audit_until_settled(approach, databases, wait_seconds=wait_seconds)
    after.repairs = actions
    after.before_repair = before
    return after


# The platform command ----------------------------------------------------------


def add_audit_consistency_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print the report as JSON instead of text"
    )
    parser.add_argument(
        "--repair",
        action="store_true",
        help="rebuild what differs (approach 5: replay the read models; approaches "
        "3 and 4: rewrite the customer replica), then audit again",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="audit again until consistent or SECONDS have passed, so lag can "
        "settle before differences are judged (default 0: judge at once)",
    )


def command_audit_consistency(options: argparse.Namespace) -> int:
    """``python manage.py audit_consistency``: 0 consistent, 1 differences, 2 error."""
    from stack import environment
    from stack.cli import PlatformError

    if options.wait < 0:
        raise PlatformError("--wait must be 0 or more seconds")
    environment.prepare(aws=False, create_databases=False)
    env = load_env()
    approach = current_approach(env)
    try:
        databases = AuditDatabases.from_environment(env=env, approach=approach)
        if options.repair:
            report = audit_and_repair(approach, databases, wait_seconds=options.wait)
        else:
            report = audit_until_settled(approach, databases, wait_seconds=options.wait)
    except AuditError as error:
        raise PlatformError(str(error)) from None
    print(render_audit(report, as_json=options.json))
    return 0 if report.consistent else 1

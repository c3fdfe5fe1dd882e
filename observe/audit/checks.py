"""The checks: which copies each approach keeps, and each compared with its source.

Approaches 1 and 2: orphan orders. Approach 3: the replica against the
customer table. Approaches 4 and 5: the replica and the read models against
the fold of the event stores, and the outbox backlog. Under
``EVENT_STORE=dynamodb`` the fold reads the DynamoDB event tables, and there
is no outbox to check: the tables' streams are the outbox (their backlog is
``observe.quiescence``'s to count).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from observe.audit.compare import compare_rows, read_table
from observe.audit.connections import AuditDatabases, AuditError, connected, read_rows
from observe.audit.expected import (
    expected_customer_summaries,
    expected_order_view_customers,
    expected_order_views,
    expected_replica,
    expected_summary_orders,
)
from observe.audit.fold import WriteSideFold, fold_event_stores, fold_event_tables
from observe.audit.report import AuditReport, OutboxBacklog
from observe.consistency import orphan_orders_between
from observe.tables import (
    CUSTOMER_TABLE,
    ORDER_VIEW_CUSTOMER_TABLE,
    ORDER_VIEW_TABLE,
    OUTBOX_TABLE,
    REPLICA_TABLE,
    SUMMARY_ORDER_TABLE,
    SUMMARY_TABLE,
)
from shared_events.approaches import Approach, ApproachInfo, approach_info
from shared_events.configuration import SERVICES


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
    return read_table(
        databases.order,
        REPLICA_TABLE,
        "id",
        ["name", "email", "address", "version", "deleted"],
    )


def _check_replica_against_table(
    report: AuditReport, databases: AuditDatabases
) -> None:
    """Approach 3: there is no history, only the customer table to compare with."""
    with connected(databases.customer) as connection:
        customers = read_rows(
            connection,
            "SELECT id::text AS id, name, email, address, version "
            f"FROM {CUSTOMER_TABLE}",
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
        with connected(url) as connection:
            (row,) = read_rows(
                connection,
                "SELECT count(*) AS unpublished, "
                "EXTRACT(EPOCH FROM now() - min(created_at))::float AS oldest "
                f"FROM {OUTBOX_TABLE} WHERE published_at IS NULL",
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
            actual=read_table(url, table, key, list(next(iter(expected.values()), {}))),
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
    checks. With ``databases.event_tables`` the event stores are DynamoDB's.
    """
    info: ApproachInfo = approach_info(approach)
    report = AuditReport(approach=info.approach.value)
    event_stores = [
        getattr(databases, service)
        for service in SERVICES
        if info.event_sourced(service)
    ]
    fold = None
    if databases.event_tables is not None:
        fold = fold_event_tables(databases.event_tables)
        report.events_folded = fold.events
        report.event_store = "dynamodb"
    elif event_stores:
        fold = fold_event_stores(event_stores)
        report.events_folded = fold.events
    if info.read_side:
        _check_read_models(report, databases, fold)
    if info.keeps_replica:
        if fold is not None:
            _check_replica_against_fold(report, databases, fold)
        else:
            _check_replica_against_table(report, databases)
    _check_orphans(report, databases)
    if info.outbox_services and databases.event_tables is None:
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

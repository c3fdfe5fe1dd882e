"""Repair: rebuild what the audit found different, as far as the auditor may.

Approach 5's read models are rebuilt by replaying the events
(``manage.py --service X rebuild_read_models``), the replica of approaches 3
and 4 is rewritten from the customer table or the fold. An orphan order is
never cancelled: that is the order service's decision, made by its own command.
"""

from __future__ import annotations

import subprocess

from observe.audit.checks import audit_until_settled
from observe.audit.connections import AuditDatabases, AuditError, connected
from observe.audit.report import AuditReport
from observe.tables import (
    ORDER_VIEW_CUSTOMER_TABLE,
    ORDER_VIEW_TABLE,
    REPLICA_TABLE,
    SUMMARY_ORDER_TABLE,
    SUMMARY_TABLE,
)
from shared_events.approaches import Approach, approach_info
from shared_events.configuration import REPO_DIR
from stack.processes import manage_command, service_environment

# Which service's read database holds each read-model table, and so which
# service's read models a repair rebuilds.
READ_MODEL_SERVICE = {
    SUMMARY_TABLE: "customer",
    SUMMARY_ORDER_TABLE: "customer",
    ORDER_VIEW_TABLE: "order",
    ORDER_VIEW_CUSTOMER_TABLE: "order",
}


def repair_replica(report: AuditReport, databases: AuditDatabases) -> list[str]:
    """Write the expected values into every replica row found different."""
    actions = []
    with (
        connected(databases.order, readonly=False) as connection,
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
    actions = []
    for service in services:
        completed = subprocess.run(
            manage_command(service, "rebuild_read_models", "--restart"),
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
    if services and databases.event_tables is not None:
        # The replay reads PostgreSQL's event_store, empty under this store:
        # it would rebuild the read models from nothing.
        actions.append(
            f"{', '.join(services)} read models not rebuilt: the replay reads "
            "PostgreSQL's event store, and under EVENT_STORE=dynamodb the events "
            "are in DynamoDB"
        )
    elif services:
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

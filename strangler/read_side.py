"""Approach 5's read side as step 4 -> 5 sees it: its tables, what it replayed.

The read databases hold denormalized copies of both services' events
(``CustomerSummary``, ``OrderView``), written only by each service's
read-side consumer (``customer-read``, ``order-read``) and by the rebuild
that replays the event stores under that consumer's name. What a learner
should notice: the read side is proven complete by its own bookkeeping.
Every event the rebuild replayed is recorded in the read database's
``event_processed``, so "every event the stores held when the rebuild began
reached the read side" is a comparison of event ids, exact even while the
services keep writing.
"""

from __future__ import annotations

from observe.audit import AuditDatabases, RowDifference, audit_consistency
from observe.tables import (
    AGGREGATE_CURSOR_TABLE,
    CUSTOMER_TABLE,
    EVENT_STORE_TABLE,
    ORDER_LINE_TABLE,
    ORDER_TABLE,
    ORDER_VIEW_CUSTOMER_TABLE,
    ORDER_VIEW_TABLE,
    PROCESSED_EVENT_TABLE,
    SUMMARY_ORDER_TABLE,
    SUMMARY_TABLE,
)
from shared_events.approaches import Approach
from shared_events.configuration import SERVICES
from shared_events.transport.topology import tracking_name
from stack.connections import fetch_rows, fetch_value
from strangler.catalog import has_table, row_count
from strangler.verification import Verification

# Each service's read database: its read models, then the read-side
# consumer's tracking tables (the rebuild replaces them all).
READ_MODEL_TABLES = {
    "customer": (SUMMARY_TABLE, SUMMARY_ORDER_TABLE),
    "order": (ORDER_VIEW_TABLE, ORDER_VIEW_CUSTOMER_TABLE),
}
TRACKING_TABLES = (PROCESSED_EVENT_TABLE, AGGREGATE_CURSOR_TABLE)
# The name each read side records its events under (``rebuild_read_models``
# and ``consume_events --side read`` use the same).
READ_CONSUMERS = {service: tracking_name(f"{service}-read") for service in SERVICES}
# Where each customer and each order of the write side shows on the read
# side: (whose read database, table, key column).
CUSTOMER_ROWS = (
    ("customer", SUMMARY_TABLE, "customer_id"),
    ("order", ORDER_VIEW_CUSTOMER_TABLE, "customer_id"),
)
ORDER_ROWS = (
    ("customer", SUMMARY_ORDER_TABLE, "order_id"),
    ("order", ORDER_VIEW_TABLE, "order_id"),
)
# Each service's state table, where its customers or orders live.
STATE_TABLES = {"customer": CUSTOMER_TABLE, "order": ORDER_TABLE}
# Schemas a rebuild leaves while it runs (``shared_events.read_side.rebuild``).
REBUILD_SCHEMAS = ("rebuild", "retired")


def rows_not_ours(url: str, service: str) -> list[str]:
    """What a read database holds that a step starting now did not write:
    rows in its read models or tracking tables, a rebuild's schemas."""
    found = []
    for table in (*READ_MODEL_TABLES[service], *TRACKING_TABLES):
        if has_table(url, table):
            rows = row_count(url, table)
            if rows:
                found.append(f"{rows} rows in {table}")
    for schema in REBUILD_SCHEMAS:
        if fetch_value(
            url, "SELECT count(*) FROM pg_namespace WHERE nspname = %s", [schema]
        ):
            found.append(f"a schema {schema!r} (a rebuild this step did not start)")
    return found


def high_water(url: str) -> int:
    """The highest event id in the event store at ``url`` (0 when empty)."""
    return fetch_value(url, f"SELECT coalesce(max(id), 0) FROM {EVENT_STORE_TABLE}")


def event_ids_up_to(url: str, last_id: int) -> set[str]:
    return {
        event_id
        for (event_id,) in fetch_rows(
            url,
            f"SELECT event_id::text FROM {EVENT_STORE_TABLE} WHERE id <= %s",
            [last_id],
        )
    }


def processed_event_ids(url: str, consumer: str) -> set[str]:
    """The events the read side at ``url`` recorded as applied."""
    if not has_table(url, PROCESSED_EVENT_TABLE):
        return set()
    return {
        event_id
        for (event_id,) in fetch_rows(
            url,
            f"SELECT event_id::text FROM {PROCESSED_EVENT_TABLE} WHERE consumer = %s",
            [consumer],
        )
    }


def touched_after(url: str, last_id: int) -> set[str]:
    """Customers and orders an event after ``last_id`` changed: the
    aggregate, and the customer of an order (named by the event, or by the
    order's state row: an ``OrderCancelled`` changes its customer's summary
    without naming the customer)."""
    if has_table(url, ORDER_TABLE):
        statement = (
            "SELECT e.aggregate_id::text, coalesce(e.payload ->> 'customer_id', "
            f"o.customer_id::text) FROM {EVENT_STORE_TABLE} e "
            f"LEFT JOIN {ORDER_TABLE} o ON o.id = e.aggregate_id WHERE e.id > %s"
        )
    else:
        statement = (
            "SELECT aggregate_id::text, payload ->> 'customer_id' "
            f"FROM {EVENT_STORE_TABLE} WHERE id > %s"
        )
    touched = set()
    for aggregate_id, customer_id in fetch_rows(url, statement, [last_id]):
        touched.add(aggregate_id)
        if customer_id:
            touched.add(customer_id)
    return touched


def on_its_way(difference: RowDifference, touched: set[str]) -> bool:
    """A difference an event after the rebuild explains: that event is in the
    read inboxes, subscribed before the rebuild began, and the projectors
    apply it once they run."""
    if difference.row_id in touched:
        return True
    expected = difference.expected or {}
    return expected.get("customer_id") in touched


def keys_in(url: str, table: str, column: str) -> set[str]:
    """The values of ``column`` in ``table`` (none if there is no such table)."""
    if not has_table(url, table):
        return set()
    return {key for (key,) in fetch_rows(url, f"SELECT {column}::text FROM {table}")}


def write_side_keys(url: str, service: str) -> set[str]:
    """The customers, or the orders placed (with lines: one refused outright
    has no read-model row), that the service's state tables hold."""
    statement = {
        "customer": f"SELECT id::text FROM {CUSTOMER_TABLE}",
        "order": f"SELECT o.id::text FROM {ORDER_TABLE} o WHERE EXISTS "
        f"(SELECT 1 FROM {ORDER_LINE_TABLE} l WHERE l.order_id = o.id)",
    }[service]
    return {key for (key,) in fetch_rows(url, statement)}


# --- verify --------------------------------------------------------------------


def compare_read_side(
    *, write: dict[str, str], read: dict[str, str], marks: dict[str, int]
) -> Verification:
    """Step 4 -> 5's verify: the read databases ``read`` against the
    event stores in ``write``, the rebuild having begun at ``marks`` (each
    store's highest event id then)."""
    verification = Verification()
    found = _events_applied(verification, write, read, marks)
    state = {service: write_side_keys(write[service], service) for service in SERVICES}
    shown = {
        (reader, table): keys_in(read[reader], table, column)
        for reader, table, column in (*CUSTOMER_ROWS, *ORDER_ROWS)
    }
    report = audit_consistency(
        Approach.CQRS_ES,
        AuditDatabases(
            customer=write["customer"],
            order=write["order"],
            customer_read=read["customer"],
            order_read=read["order"],
        ),
    )
    # Rows an event after the rebuild touched may still trail: that event
    # waits in the read inboxes. Asked last, so that every event behind
    # a row read above is in it (a row commits with its event).
    touched = set().union(
        *(touched_after(url, marks[service]) for service, url in write.items())
    )
    for service, rows in (("customer", CUSTOMER_ROWS), ("order", ORDER_ROWS)):
        table = STATE_TABLES[service]
        wanted = state[service] - touched
        for reader, read_table, _ in rows:
            absent = wanted - shown[reader, read_table]
            line = (
                f"{table}: {len(wanted)} rows before the rebuild, "
                f"{len(wanted) - len(absent)} in {read_table}"
            )
            found.append(line)
            if absent:
                verification.problems.append(
                    f"{line}; absent: {', '.join(sorted(absent)[:5])}"
                )
    trailing = [d for d in report.differences if on_its_way(d, touched)]
    wrong = [d for d in report.differences if not on_its_way(d, touched)]
    audit = (
        f"auditor: {sum(report.rows_checked.values())} rows against "
        f"{report.events_folded} events, {len(wrong)} differences, "
        f"{len(trailing)} rows on their way (touched after the rebuild), "
        f"{len(report.orphan_orders)} orphan orders"
    )
    if wrong or report.orphan_orders:
        verification.problems.append(audit)
        verification.problems += [difference.describe() for difference in wrong[:5]]
    verification.audit = "\n  ".join([*found, audit])
    return verification


def _events_applied(
    verification: Verification,
    write: dict[str, str],
    read: dict[str, str],
    marks: dict[str, int],
) -> list[str]:
    """Every event up to the marks recorded as applied by both read sides."""
    found = []
    applied = {
        reader: processed_event_ids(url, READ_CONSUMERS[reader])
        for reader, url in read.items()
    }
    for store, url in write.items():
        wanted = event_ids_up_to(url, marks[store])
        for reader, processed in applied.items():
            missing = wanted - processed
            line = (
                f"{store} event store up to id {marks[store]}: {len(wanted)} "
                f"events, {len(wanted) - len(missing)} applied by the {reader} "
                "read side"
            )
            found.append(line)
            if missing:
                verification.problems.append(
                    f"{line}; not applied: {', '.join(sorted(missing)[:5])}"
                )
    return found

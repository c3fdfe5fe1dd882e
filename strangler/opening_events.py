"""Opening events: a snapshot of every aggregate that existed before events did.

Three moves, one for each phase of ``IntroduceEvents``:

- ``take_snapshots`` while the services still write: every customer and
  order, in key order a batch at a time, becomes a staged snapshot (its
  opening event's payload) in ``strangler_opening_event`` beside the state
  table. ``fill=False`` inserts only what is missing (a rerun after a kill
  picks up where it was); ``fill=True``, behind the guard, overwrites every
  snapshot that differs from its row and deletes those whose row is gone.
- ``append_opening_events`` behind the guard: each staged snapshot becomes
  version 1 of its aggregate in the service's own event store, inserted if
  missing (the store's unique (aggregate_id, version) makes a rerun a no-op),
  and each orphan order is closed by the stated policy.
- ``settle_copies``: state rows at the version their events say, the order
  service's replica and both consumers' cursors where the events leave them.

Why stage instead of appending at once: the event store is append-only, so a
snapshot written while the row could still change could never be corrected.
The staging table can; only final snapshots reach the store.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from psycopg2.extras import execute_values

from observe.tables import (
    CUSTOMER_TABLE,
    EVENT_STORE_TABLE,
    ORDER_LINE_TABLE,
    ORDER_TABLE,
    REPLICA_TABLE,
)
from shared_events.events import (
    CUSTOMER_MISSING_AT_IMPORT,
    REGISTRY,
    AggregateType,
    EventType,
    OpeningEventType,
    new_envelope,
    to_dict,
)
from shared_events.transport.topology import tracking_name
from stack.connections import fetch_rows, open_connection
from strangler.copying import BATCH_ROWS_VARIABLE, PAUSE_VARIABLE

STAGING_TABLE = "strangler_opening_event"
CURSOR_TABLE = "event_aggregate_cursor"
# The names the services' consumers record their cursors under: the order
# service reads customer events, the customer service order events.
CUSTOMER_EVENTS_CONSUMER = tracking_name("order")
ORDER_EVENTS_CONSUMER = tracking_name("customer")
OPEN_STATUSES = ("pending", "approved")

_CREATE_STAGING = f"""
CREATE TABLE IF NOT EXISTS {STAGING_TABLE} (
    aggregate_id uuid PRIMARY KEY,
    payload jsonb NOT NULL,
    orphan boolean NOT NULL DEFAULT false
)
"""


@dataclass(frozen=True)
class Databases:
    """The two services' databases (the same under both approaches)."""

    customer: str
    order: str


def create_staging(databases: Databases) -> None:
    for url in (databases.customer, databases.order):
        with open_connection(url, autocommit=True) as connection:
            connection.cursor().execute(_CREATE_STAGING)


def _money(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.01')):.2f}"


def _batch_rows() -> int:
    return int(os.environ.get(BATCH_ROWS_VARIABLE) or 1000)


def _keys_in_batches(url: str, table: str, key: str = "id") -> Iterator[list[str]]:
    """The table's keys in key order, a batch at a time (keyset, no OFFSET)."""
    last = None
    while True:
        if last is None:
            rows = fetch_rows(
                url,
                f"SELECT {key}::text FROM {table} ORDER BY {key} LIMIT %s",
                [_batch_rows()],
            )
        else:
            rows = fetch_rows(
                url,
                f"SELECT {key}::text FROM {table} WHERE {key} > %s::uuid "
                f"ORDER BY {key} LIMIT %s",
                [last, _batch_rows()],
            )
        if not rows:
            return
        yield [key for (key,) in rows]
        last = rows[-1][0]


# --- the snapshots --------------------------------------------------------------


def customer_snapshots(databases: Databases, ids: list[str]) -> dict[str, dict]:
    """CustomerImported payloads of ``ids``: the row, and the credit its open
    orders hold (from the order service's database)."""
    rows = fetch_rows(
        databases.customer,
        f"SELECT id::text, name, email, address FROM {CUSTOMER_TABLE} "
        "WHERE id::text = ANY(%s)",
        [ids],
    )
    held: dict[str, dict[str, str]] = {key: {} for key in ids}
    for customer_id, order_id, total in fetch_rows(
        databases.order,
        f"SELECT customer_id::text, id::text, total FROM {ORDER_TABLE} "
        "WHERE customer_id::text = ANY(%s) AND status = ANY(%s)",
        [ids, list(OPEN_STATUSES)],
    ):
        held[customer_id][order_id] = _money(total)
    return {
        customer_id: {
            "customer_id": customer_id,
            "name": name,
            "email": email,
            "address": address,
            "reservations": held[customer_id],
        }
        for customer_id, name, email, address in rows
    }


def order_snapshots(
    databases: Databases, ids: list[str]
) -> dict[str, tuple[dict, bool]]:
    """OrderImported payloads of ``ids``, each with whether it is an orphan:
    open, and its customer gone from the customer service."""
    orders = fetch_rows(
        databases.order,
        f"SELECT id::text, customer_id::text, status, total FROM {ORDER_TABLE} "
        "WHERE id::text = ANY(%s)",
        [ids],
    )
    lines: dict[str, list[dict]] = {key: [] for key in ids}
    for order_id, sku, quantity, unit_price in fetch_rows(
        databases.order,
        f"SELECT order_id::text, sku, quantity, unit_price FROM {ORDER_LINE_TABLE} "
        "WHERE order_id::text = ANY(%s) ORDER BY order_id, position",
        [ids],
    ):
        lines[order_id].append(
            {"sku": sku, "quantity": quantity, "unit_price": _money(unit_price)}
        )
    customers = sorted({customer_id for _, customer_id, _, _ in orders})
    known = {
        key
        for (key,) in fetch_rows(
            databases.customer,
            f"SELECT id::text FROM {CUSTOMER_TABLE} WHERE id::text = ANY(%s)",
            [customers],
        )
    }
    return {
        order_id: (
            {
                "order_id": order_id,
                "customer_id": customer_id,
                "status": status,
                "lines": lines[order_id],
                "total": _money(total),
            },
            status in OPEN_STATUSES and customer_id not in known,
        )
        for order_id, customer_id, status, total in orders
    }


def opening_envelope(kind: str, payload: dict):
    """The opening event of one aggregate, validated against the registry."""
    if kind == "customer":
        event_type, aggregate_type = OpeningEventType.CUSTOMER_IMPORTED, "Customer"
        aggregate_id = payload["customer_id"]
    else:
        event_type, aggregate_type = OpeningEventType.ORDER_IMPORTED, "Order"
        aggregate_id = payload["order_id"]
    envelope = new_envelope(
        event_type=event_type.value,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        aggregate_version=1,
        producer=kind,
        payload=payload,
    )
    REGISTRY.validate(to_dict(envelope), constructed=True)
    return envelope


def take_snapshots(
    databases: Databases, *, kind: str, fill: bool, progress=None
) -> tuple[int, int]:
    """Stage a snapshot of every ``kind`` ("customer" or "order") aggregate;
    (written, removed). Each batch is validated and committed on its own."""
    url = databases.customer if kind == "customer" else databases.order
    table = CUSTOMER_TABLE if kind == "customer" else ORDER_TABLE
    conflict = (
        "ON CONFLICT (aggregate_id) DO UPDATE SET payload = EXCLUDED.payload, "
        f"orphan = EXCLUDED.orphan WHERE ({STAGING_TABLE}.payload, "
        f"{STAGING_TABLE}.orphan) IS DISTINCT FROM (EXCLUDED.payload, EXCLUDED.orphan)"
        if fill
        else "ON CONFLICT DO NOTHING"
    )
    statement = (
        f"INSERT INTO {STAGING_TABLE} (aggregate_id, payload, orphan) VALUES %s "
        + conflict
    )
    pause = 0.0 if fill else float(os.environ.get(PAUSE_VARIABLE) or 0)
    written = read = 0
    for ids in _keys_in_batches(url, table):
        if kind == "customer":
            staged = {
                key: (payload, False)
                for key, payload in customer_snapshots(databases, ids).items()
            }
        else:
            staged = order_snapshots(databases, ids)
        for payload, _ in staged.values():
            opening_envelope(kind, payload)  # refuse an invalid snapshot now
        rows = [
            (key, json.dumps(payload), orphan)
            for key, (payload, orphan) in staged.items()
        ]
        with open_connection(url) as connection, connection.cursor() as cursor:
            if rows:
                execute_values(
                    cursor,
                    statement,
                    rows,
                    template="(%s::uuid, %s::jsonb, %s)",
                    page_size=len(rows),
                )
                written += cursor.rowcount
            connection.commit()
        read += len(ids)
        if progress is not None and not fill:
            progress(f"  {table}: {read} rows read, {written} snapshots staged")
        if pause:
            time.sleep(pause)
    removed = 0
    if fill:
        with open_connection(url) as connection, connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {STAGING_TABLE} s WHERE NOT EXISTS "
                f"(SELECT 1 FROM {table} t WHERE t.id = s.aggregate_id)"
            )
            removed = cursor.rowcount
            connection.commit()
    return written, removed


def staged(url: str) -> Iterator[list[tuple[str, dict, bool]]]:
    """The staged snapshots at ``url``, a batch at a time in key order."""
    for ids in _keys_in_batches(url, STAGING_TABLE, "aggregate_id"):
        rows = fetch_rows(
            url,
            f"SELECT aggregate_id::text, payload, orphan FROM {STAGING_TABLE} "
            "WHERE aggregate_id::text = ANY(%s) ORDER BY aggregate_id",
            [ids],
        )
        yield rows


def orphan_ids(url: str) -> list[str]:
    return [
        key
        for (key,) in fetch_rows(
            url,
            f"SELECT aggregate_id::text FROM {STAGING_TABLE} WHERE orphan "
            "ORDER BY aggregate_id",
        )
    ]


# --- the event store --------------------------------------------------------------

_APPEND = (
    f"INSERT INTO {EVENT_STORE_TABLE} (event_id, aggregate_type, aggregate_id, "
    "aggregate_version, event_type, schema_version, occurred_at, payload, metadata) "
    "VALUES %s ON CONFLICT DO NOTHING"
)
_ROW = "(%s, %s, %s::uuid, %s, %s, %s, %s, %s::jsonb, %s::jsonb)"


def _stored(envelope) -> tuple:
    """The event store's row for ``envelope``, as ``stored_event_of`` makes it."""
    return (
        str(envelope.event_id),
        envelope.aggregate_type,
        str(envelope.aggregate_id),
        envelope.aggregate_version,
        envelope.event_type,
        envelope.schema_version,
        envelope.occurred_at,
        json.dumps(envelope.payload),
        json.dumps(
            {
                "producer": envelope.producer,
                "correlation_id": str(envelope.correlation_id),
                "causation_id": (
                    str(envelope.causation_id) if envelope.causation_id else None
                ),
                "trace_context": envelope.trace_context,
            }
        ),
    )


def _append(url: str, envelopes: list) -> int:
    if not envelopes:
        return 0
    with open_connection(url) as connection, connection.cursor() as cursor:
        execute_values(
            cursor,
            _APPEND,
            [_stored(envelope) for envelope in envelopes],
            template=_ROW,
            page_size=len(envelopes),
        )
        appended = cursor.rowcount
        connection.commit()
    return appended


def append_opening_events(databases: Databases) -> dict[str, int]:
    """Version 1 of every staged aggregate, inserted where missing; then each
    orphan's cancellation as version 2. How many events were appended."""
    appended = {}
    for kind, url in (("customer", databases.customer), ("order", databases.order)):
        appended[kind] = sum(
            _append(url, [opening_envelope(kind, payload) for _, payload, _ in rows])
            for rows in staged(url)
        )
    appended["orphan cancellations"] = _cancel_orphans(databases.order)
    return appended


def _cancel_orphans(url: str) -> int:
    """The orphan policy: an open order whose customer is gone is imported as
    it was, then cancelled with reason ``customer_missing_at_import`` (as
    the event-sourced platform cancels a deleted customer's orders), so it
    holds nothing and is not carried over as if its customer still existed."""
    orphans = orphan_ids(url)
    if not orphans:
        return 0
    opening = fetch_rows(
        url,
        f"SELECT aggregate_id::text, event_id, payload FROM {EVENT_STORE_TABLE} "
        "WHERE aggregate_version = 1 AND aggregate_id::text = ANY(%s)",
        [orphans],
    )
    cancellations = []
    for order_id, event_id, payload in opening:
        envelope = new_envelope(
            event_type=EventType.ORDER_CANCELLED.value,
            aggregate_type=AggregateType.ORDER.value,
            aggregate_id=order_id,
            aggregate_version=2,
            producer="order",
            payload={
                "order_id": order_id,
                "customer_id": payload["customer_id"],
                "reason": CUSTOMER_MISSING_AT_IMPORT,
            },
            correlation_id=UUID(str(event_id)),
            causation_id=UUID(str(event_id)),
        )
        REGISTRY.validate(to_dict(envelope), constructed=True)
        cancellations.append(envelope)
    return _append(url, cancellations)


# --- the copies the events stand behind ----------------------------------------------


def settle_copies(databases: Databases) -> dict[str, int]:
    """Make every copy agree with the opening events; each write is a no-op
    the second time.

    The state rows' ``version`` becomes the version of the aggregate's last
    event (1, or 2 for a cancelled orphan), since an event-sourced
    repository refuses a row whose version is not the one it folded. The
    replica gets every imported customer, and both consumers' cursors start
    at the version each aggregate's events reached, so the next event a
    service publishes (version 2 or 3) is applied, not held as a gap.
    """
    orphans = orphan_ids(databases.order)
    changed = {}
    with open_connection(databases.customer) as connection:
        cursor = connection.cursor()
        cursor.execute(
            f"UPDATE {CUSTOMER_TABLE} SET version = 1 WHERE version <> 1 "
            f"AND id IN (SELECT aggregate_id FROM {STAGING_TABLE})"
        )
        changed["customer rows"] = cursor.rowcount
        connection.commit()
    order_versions = fetch_rows(
        databases.order,
        f"SELECT aggregate_id::text, max(aggregate_version) FROM {EVENT_STORE_TABLE} "
        "WHERE aggregate_type = 'Order' GROUP BY aggregate_id",
    )
    with open_connection(databases.customer) as connection:
        cursor = connection.cursor()
        cursors = [
            (ORDER_EVENTS_CONSUMER, key, version) for key, version in order_versions
        ]
        if cursors:
            execute_values(
                cursor,
                f"INSERT INTO {CURSOR_TABLE} (consumer, aggregate_type, aggregate_id, "
                "version, updated_at) VALUES %s ON CONFLICT (consumer, aggregate_id) "
                f"DO UPDATE SET version = GREATEST({CURSOR_TABLE}.version, "
                "EXCLUDED.version)",
                cursors,
                template="(%s, 'Order', %s::uuid, %s, now())",
                page_size=len(cursors),
            )
        changed["customer service's order cursors"] = len(cursors)
        connection.commit()
    with open_connection(databases.order) as connection:
        cursor = connection.cursor()
        cursor.execute(
            f"UPDATE {ORDER_TABLE} SET status = 'cancelled', "
            "cancelled_at = coalesce(cancelled_at, now()), version = 2 "
            "WHERE id::text = ANY(%s) AND (status, version) <> ('cancelled', 2)",
            [orphans],
        )
        changed["orphan orders cancelled"] = cursor.rowcount
        cursor.execute(
            f"UPDATE {ORDER_TABLE} SET version = 1 WHERE version <> 1 "
            f"AND NOT id::text = ANY(%s) "
            f"AND id IN (SELECT aggregate_id FROM {STAGING_TABLE})",
            [orphans],
        )
        changed["order rows"] = cursor.rowcount
        connection.commit()
    replica = written = 0
    for rows in staged(databases.customer):
        with open_connection(databases.order) as connection:
            cursor = connection.cursor()
            execute_values(
                cursor,
                f"INSERT INTO {REPLICA_TABLE} (id, name, email, address, version, "
                "deleted, updated_at) VALUES %s ON CONFLICT (id) DO UPDATE SET "
                "name = EXCLUDED.name, email = EXCLUDED.email, "
                "address = EXCLUDED.address, version = EXCLUDED.version, "
                "deleted = false, updated_at = now() "
                f"WHERE ({REPLICA_TABLE}.name, {REPLICA_TABLE}.email, "
                f"{REPLICA_TABLE}.address, {REPLICA_TABLE}.version, "
                f"{REPLICA_TABLE}.deleted) IS DISTINCT FROM (EXCLUDED.name, "
                "EXCLUDED.email, EXCLUDED.address, EXCLUDED.version, false)",
                [(key, p["name"], p["email"], p["address"]) for key, p, _ in rows],
                template="(%s::uuid, %s, %s, %s, 1, false, now())",
                page_size=len(rows),
            )
            replica += cursor.rowcount
            execute_values(
                cursor,
                f"INSERT INTO {CURSOR_TABLE} (consumer, aggregate_type, "
                "aggregate_id, version, updated_at) VALUES %s "
                "ON CONFLICT (consumer, aggregate_id) DO UPDATE SET version = "
                f"GREATEST({CURSOR_TABLE}.version, EXCLUDED.version)",
                [(CUSTOMER_EVENTS_CONSUMER, key) for key, _, _ in rows],
                template="(%s, 'Customer', %s::uuid, 1, now())",
                page_size=len(rows),
            )
            written += len(rows)
            connection.commit()
    changed["replica rows"] = replica
    changed["order service's customer cursors"] = written
    return changed

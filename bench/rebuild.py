"""Figure 3, rebuild: events/s replayed into the read models vs a raw bulk insert.

Subject: ``shared_events.read_side.rebuild.rebuild_read_models(restart=True)``, the
rebuild command's own path, over events stored in the write database's event
store (the order service's store, the peer, empty): a shadow schema, chunks
of 500 events folded in memory and written with one statement per table
(``shared_events.read_side.bulk_projection``), the catch-up passes, then the table
switch. Everything the command does is timed, its fixed cost (two
connections, the shadow tables, the switch) included.

For comparison, no target: the live read-side consumer's path, every event
through ``apply_event(..., database="read")`` with the customer service's
projection handlers (processed-event record, cursor, the CustomerSummary row:
one transaction per event).

Baseline of both: the rows the replay left behind, read back and inserted
again with psycopg2 ``execute_values`` in one transaction.

Growth (figure 4b): ``rebuild_read_models`` at a small and a large event
count, as events/s. Those events are a mix of both services' (customers
registered, changed and deleted; orders placed and cancelled), so later
chunks read rows that earlier chunks wrote; they are generated and copied
into the two event stores directly (valid envelopes, but not each validated
against the catalog, which would take longer than the rebuild).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg2
from django.db import connections
from psycopg2.extras import execute_values

from bench.outbox_rows import envelope_bodies
from bench.report import Figure
from customer_service.summaries.projections import PROJECTION_HANDLERS
from observe.tables import (
    AGGREGATE_CURSOR_TABLE,
    EVENT_STORE_TABLE,
    PROCESSED_EVENT_TABLE,
    SUMMARY_ORDER_TABLE,
    SUMMARY_TABLE,
)
from shared_events.consume import Outcome, apply_event
from shared_events.events import from_dict, new_traceparent
from shared_events.read_side.bulk_writes import copy_rows
from shared_events.read_side.rebuild import rebuild_read_models

REBUILD = Figure("3 rebuild", unit="events/s")
REBUILD_GROWTH = Figure("4 growth, rebuild", unit="events/s")
BASELINE = "raw execute_values of the same rows"
# The target: a rebuild at least 0.7 of a raw bulk insert.
REBUILD_TARGET = 0.7
READ = "read"
CONSUMER = "bench-rebuild"
TABLES = (
    SUMMARY_TABLE,
    SUMMARY_ORDER_TABLE,
    PROCESSED_EVENT_TABLE,
    AGGREGATE_CURSOR_TABLE,
)
EVENT_STORE_COLUMNS = (
    "event_id",
    "aggregate_type",
    "aggregate_id",
    "aggregate_version",
    "event_type",
    "schema_version",
    "occurred_at",
    "payload",
    "metadata",
)


def _clear() -> None:
    with connections[READ].cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)}")


def _replay(envelopes) -> float:
    _clear()
    started = time.perf_counter()
    for envelope in envelopes:
        outcome = apply_event(
            consumer=CONSUMER,
            envelope=envelope,
            handlers=PROJECTION_HANDLERS[envelope.event_type],
            database=READ,
        )
        if outcome != Outcome.APPLIED:
            raise RuntimeError(f"replay: {outcome} for {envelope.event_id}")
    return len(envelopes) / (time.perf_counter() - started)


def _raw_bulk_insert(events: int) -> float:
    """Read back what replay wrote, truncate, time inserting it again."""
    connection = connections[READ]
    snapshot = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (our names)
            columns = [column.name for column in cursor.description]
            snapshot[table] = (columns, cursor.fetchall())
    _clear()
    raw = connection.connection  # the psycopg2 connection itself
    started = time.perf_counter()
    with raw.cursor() as cursor:
        for table, (columns, rows) in snapshot.items():
            if rows:
                execute_values(
                    cursor,
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES %s",
                    rows,
                    page_size=1000,
                )
    raw.commit()
    return events / (time.perf_counter() - started)


def _envelopes(count: int):
    return [from_dict(body) for body in envelope_bodies(count)]


def _store_events(envelopes) -> None:
    """Put the envelopes in the write database's event store (once)."""
    values = [
        (
            str(e.event_id),
            e.aggregate_type,
            e.aggregate_id,
            e.aggregate_version,
            e.event_type,
            e.schema_version,
            e.occurred_at,
            json.dumps(dict(e.payload)),
            json.dumps({"producer": e.producer}),
        )
        for e in envelopes
    ]
    with connections["default"].cursor() as cursor:
        cursor.execute(f"TRUNCATE {EVENT_STORE_TABLE}")
        execute_values(
            cursor.cursor,
            f"INSERT INTO {EVENT_STORE_TABLE} (event_id, aggregate_type, aggregate_id,"
            " aggregate_version, event_type, schema_version, occurred_at, payload,"
            " metadata) VALUES %s",
            values,
        )


def _rebuild_command(events: int, peer_url: str) -> float:
    _clear()
    started = time.perf_counter()
    result = rebuild_read_models(
        consumer=CONSUMER,
        handlers=PROJECTION_HANDLERS,
        service="customer",
        peer_service="order",
        peer_database_url=peer_url,
        restart=True,
        report=lambda message: None,
    )
    elapsed = time.perf_counter() - started
    if result.applied != events:
        raise RuntimeError(f"rebuild applied {result.applied} of {events}")
    return events / elapsed


# Growth: a mix of both services' events --------------------------------------------


class _History:
    """``count`` events of customers and their orders, as the two stores hold them."""

    def __init__(self, count: int, seed: int = 4) -> None:
        self.random = random.Random(seed)
        self.clock = datetime(2026, 1, 1, tzinfo=UTC)
        self.versions: dict[str, int] = {}
        self.customers: list[str] = []
        self.open_orders: list[tuple[str, str]] = []  # (order, customer)
        self.rows = {"Customer": [], "Order": []}
        for _ in range(count):
            self._step()

    def _id(self) -> str:
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))

    def _record(self, aggregate_type: str, aggregate_id: str, event_type, payload):
        self.versions[aggregate_id] = version = self.versions.get(aggregate_id, 0) + 1
        self.clock += timedelta(milliseconds=1)
        metadata = {
            "producer": aggregate_type.lower(),
            "trace_context": {"traceparent": new_traceparent()},
        }
        self.rows[aggregate_type].append(
            (
                self._id(),
                aggregate_type,
                aggregate_id,
                version,
                event_type,
                1,
                self.clock,
                json.dumps(payload),
                json.dumps(metadata),
            )
        )

    def _step(self) -> None:
        roll, pick = self.random.random(), self.random.choice
        if roll < 0.35 or len(self.customers) < 10:
            customer_id = self._id()
            self.customers.append(customer_id)
            number = len(self.customers)
            self._record(
                "Customer",
                customer_id,
                "CustomerRegistered",
                {
                    "customer_id": customer_id,
                    "name": f"Growth Customer {number}",
                    "email": f"growth{number}@bench.example",
                    "address": f"{number} Growth Lane",
                },
            )
        elif roll < 0.55:
            customer_id = pick(self.customers)
            event_type, field, value = pick(
                [
                    ("CustomerRenamed", "name", f"Renamed {roll:.6f}"),
                    ("CustomerEmailChanged", "email", f"m{roll:.6f}@bench.example"),
                    ("CustomerAddressChanged", "address", f"{roll:.6f} Moved Street"),
                ]
            )
            self._record(
                "Customer",
                customer_id,
                event_type,
                {"customer_id": customer_id, field: value},
            )
        elif roll < 0.85:
            order_id, customer_id = self._id(), pick(self.customers)
            quantity, price = self.random.randint(1, 4), self.random.randint(100, 9999)
            self.open_orders.append((order_id, customer_id))
            self._record(
                "Order",
                order_id,
                "OrderPlaced",
                {
                    "order_id": order_id,
                    "customer_id": customer_id,
                    "lines": [
                        {
                            "sku": "SKU-1",
                            "quantity": quantity,
                            "unit_price": f"{price / 100:.2f}",
                        }
                    ],
                    "total": f"{quantity * price / 100:.2f}",
                },
            )
        elif roll < 0.97 and self.open_orders:
            order_id, customer_id = _take(self.open_orders, self.random)
            self._record(
                "Order",
                order_id,
                "OrderCancelled",
                {
                    "order_id": order_id,
                    "customer_id": customer_id,
                    "reason": "customer_request",
                },
            )
        else:
            customer_id = _take(self.customers, self.random)
            self._record(
                "Customer",
                customer_id,
                "CustomerDeleted",
                {"customer_id": customer_id},
            )

    def store(self, peer_url: str) -> int:
        """Replace both event stores' contents with this history; the event count."""
        with connections["default"].cursor() as cursor:
            cursor.execute(f"TRUNCATE {EVENT_STORE_TABLE}")
            copy_rows(
                cursor.cursor,
                table=EVENT_STORE_TABLE,
                columns=EVENT_STORE_COLUMNS,
                rows=self.rows["Customer"],
            )
        with psycopg2.connect(peer_url) as peer, peer.cursor() as cursor:
            cursor.execute(f"TRUNCATE {EVENT_STORE_TABLE}")
            copy_rows(
                cursor,
                table=EVENT_STORE_TABLE,
                columns=EVENT_STORE_COLUMNS,
                rows=self.rows["Order"],
            )
        peer.close()
        with connections["default"].cursor() as cursor:
            cursor.execute(f"ANALYZE {EVENT_STORE_TABLE}")
        return len(self.rows["Customer"]) + len(self.rows["Order"])


def _take(items: list, chance: random.Random):
    """Remove and return a random item, in constant time (order does not matter)."""
    index = chance.randrange(len(items))
    items[index], items[-1] = items[-1], items[index]
    return items.pop()


def _empty_peer(peer_url: str) -> None:
    with psycopg2.connect(peer_url) as peer, peer.cursor() as cursor:
        cursor.execute(f"TRUNCATE {EVENT_STORE_TABLE}")
    peer.close()


def _growth(counts: list[int], peer_url: str) -> dict[int, list[float]]:
    rates = {}
    for count in counts:
        events = _History(count).store(peer_url)
        rates[count] = [_rebuild_command(events, peer_url)]
    _empty_peer(peer_url)
    return rates


def run(
    *,
    runs: int,
    events: int,
    growth: list[int],
    peer_url: str,
    rebuild_events: int | None = None,
) -> list[dict]:
    """``rebuild_events``: how many events the rebuild replays (default ``events``).

    A rebuild has a fixed cost (two connections, five tables created, the
    switch) that a few hundred events do not outweigh; the per-event replay
    is too slow for thousands, so the two may be sized apart.
    """
    envelopes = _envelopes(events)
    _replay(envelopes[:50])  # warm up
    replayed, raw = [], []
    for _ in range(runs):
        replayed.append(_replay(envelopes))
        raw.append(_raw_bulk_insert(events))
    rebuild_events = rebuild_events or events
    _store_events(
        envelopes[:rebuild_events] + _envelopes(max(rebuild_events - events, 0))
    )
    _rebuild_command(rebuild_events, peer_url)  # warm up
    rebuilt, raw_after_rebuild = [], []
    for _ in range(runs):
        rebuilt.append(_rebuild_command(rebuild_events, peer_url))
        raw_after_rebuild.append(_raw_bulk_insert(rebuild_events))
    small, large = growth
    growth_runs = _growth([small, large], peer_url)
    _clear()
    return [
        REBUILD.row(
            subject=("rebuild_read_models (bulk, chunks of 500)", rebuilt),
            baseline=(BASELINE, raw_after_rebuild),
            target=("ge", REBUILD_TARGET),
            note=(
                f"{rebuild_events} CustomerRegistered events in the event store, "
                "restart=True: shadow tables, replay, catch-up, switch, all timed"
            ),
        ),
        REBUILD.row(
            subject=(
                "apply_event + projections (the live consumer, per event)",
                replayed,
            ),
            baseline=(BASELINE, raw),
            note=f"{events} CustomerRegistered events per run; for comparison",
        ),
        REBUILD_GROWTH.row(
            subject=(f"rebuild_read_models of {large:,} events", growth_runs[large]),
            baseline=(f"rebuild_read_models of {small:,} events", growth_runs[small]),
            note="one run each; both services' events, customers and orders mixed",
        ),
    ]

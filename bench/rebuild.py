"""Figure 3, rebuild: events/s replayed into the read models vs a raw bulk insert.

Subject: every event through ``apply_event(..., database="read")`` with the
customer service's projection handlers (processed-event record, per-aggregate
cursor, the CustomerSummary row: one transaction per event), under cqrs_es.
Second subject: ``shared_events.rebuild.rebuild_read_models`` (the rebuild
command: replays the event store in chunks of 500 into a shadow schema, then
switches tables) over the same events stored in the write database's event
store, with an empty peer event store.

Baseline: the rows that replay left behind, read back and inserted again with
psycopg2 ``execute_values`` in one transaction. Growth (figure 4b): the same
``apply_event`` replay at a small and a large event count, as events/s.
"""

from __future__ import annotations

import time

from django.db import connections
from psycopg2.extras import execute_values

from bench.outbox_rows import envelope_bodies
from bench.report import figure_row
from customer_service.summaries.projections import PROJECTION_HANDLERS
from shared_events.consumer import Outcome, apply_event
from shared_events.events import from_dict

READ = "read"
CONSUMER = "bench-rebuild"
TABLES = (
    "read_customer_summary",
    "read_customer_summary_order",
    "event_processed",
    "event_aggregate_cursor",
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
    import json

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
        cursor.execute("TRUNCATE event_store")
        execute_values(
            cursor.cursor,
            "INSERT INTO event_store (event_id, aggregate_type, aggregate_id,"
            " aggregate_version, event_type, schema_version, occurred_at, payload,"
            " metadata) VALUES %s",
            values,
        )


def _rebuild_command(events: int, peer_url: str) -> float:
    from shared_events.rebuild import rebuild_read_models

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


def run(*, runs: int, events: int, growth: list[int], peer_url: str) -> list[dict]:
    envelopes = _envelopes(events)
    _replay(envelopes[:50])  # warm up
    replayed, raw = [], []
    for _ in range(runs):
        replayed.append(_replay(envelopes))
        raw.append(_raw_bulk_insert(events))
    _store_events(envelopes)
    rebuilt, raw_after_rebuild = [], []
    for _ in range(runs):
        rebuilt.append(_rebuild_command(events, peer_url))
        raw_after_rebuild.append(_raw_bulk_insert(events))
    small, large = growth
    growth_runs = {n: [] for n in growth}
    for count in growth:
        batch = _envelopes(count)
        growth_runs[count].append(_replay(batch))
    _clear()
    return [
        figure_row(
            figure="3 rebuild",
            subject="apply_event + projections",
            baseline="raw execute_values of the same rows",
            unit="events/s",
            subject_runs=replayed,
            baseline_runs=raw,
            target=("ge", 0.5),
            note=f"{events} CustomerRegistered events per run",
        ),
        figure_row(
            figure="3 rebuild",
            subject="rebuild_read_models (chunks of 500)",
            baseline="raw execute_values of the same rows",
            unit="events/s",
            subject_runs=rebuilt,
            baseline_runs=raw_after_rebuild,
            target=("ge", 0.5),
            note=f"{events} events in the event store, restart=True, table switch",
        ),
        figure_row(
            figure="4 growth, rebuild",
            subject=f"replay of {large:,} events",
            baseline=f"replay of {small:,} events",
            unit="events/s",
            subject_runs=growth_runs[large],
            baseline_runs=growth_runs[small],
            note="one run each",
        ),
    ]

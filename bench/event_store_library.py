"""Figure 5: the platform's event store vs the ``eventsourcing`` library's.

Both subjects store one-event aggregates, one transaction each, with
optimistic concurrency and, atomically in the same transaction, what the
relay or a follower reads next:

- platform: ``event_store_append(..., outbox=True)``: the event row (unique
  index on aggregate id and version) and its outbox row (the envelope
  validated and encoded, as ``outbox_append`` writes it) in one statement,
  measured twice: inside a ``transaction.atomic()``, as
  ``EventSourcedRepository.save`` calls it beside the command's state row
  (Django sends BEGIN, the statement, COMMIT: three round trips), and as its
  own transaction, the statement alone (one round trip: a single statement
  is atomic by itself, which is all an append with its outbox needs);
- library: the ``eventsourcing`` library's ``PostgresApplicationRecorder``
  (primary key on originator id and version; the notification id of its
  notification log taken under a table lock), run in a throwaway venv under
  ``var/``, never in the project's dependencies.

Baseline: the platform's two rows inserted by raw psycopg2, one transaction
each. Every subject at 1 and at N concurrent writers (processes started
together on a barrier, as in ``bench/write_path.py``); the platform / library
row has the target: at least twice the library's appends/s.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime
from functools import partial

import psycopg2
from django.db import transaction

from bench.environment import ROOT
from bench.report import Figure
from bench.write_path import _raw_dsn, concurrent_throughput
from observe.tables import EVENT_STORE_TABLE, OUTBOX_TABLE
from shared_events.testing import customer_events
from shared_events.write_side import event_store_append

LIBRARY_PYTHON = ROOT / "var" / "bench-eventsourcing" / "bin" / "python"
TARGET = ("ge", 2.0)
EVENT_STORE = Figure("5 event store", unit="events/s")
VERSUS_LIBRARY = Figure("5 event store vs library", unit="events/s")


def _envelope():
    customer_id = uuid.uuid4()
    return customer_events.registered(
        customer_id,
        name="Bench Customer",
        email=f"{customer_id.hex[:12]}@bench.example",
        address="1 Benchmark Road",
    )


def _envelopes(count: int, tag: str) -> tuple[list]:
    """Built before the clock starts: the subject is storing, not building."""
    return ([_envelope() for _ in range(count)],)


def _platform_loop(envelopes: list) -> None:
    for envelope in envelopes:
        with transaction.atomic():
            event_store_append(envelopes=[envelope], expected_version=0, outbox=True)


def _platform_statement_loop(envelopes: list) -> None:
    for envelope in envelopes:
        event_store_append(envelopes=[envelope], expected_version=0, outbox=True)


def _raw_loop(count: int, tag: str, *, dsn: str) -> None:
    connection = psycopg2.connect(dsn)
    now = datetime.now(UTC)
    payload = json.dumps({"name": "Bench Customer", "address": "1 Benchmark Road"})
    try:
        for _ in range(count):
            event_id, aggregate_id = str(uuid.uuid4()), str(uuid.uuid4())
            with connection, connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {EVENT_STORE_TABLE} (event_id, aggregate_type,"
                    " aggregate_id, aggregate_version, event_type, schema_version,"
                    " occurred_at, payload, metadata) VALUES (%s, 'Customer', %s, 1,"
                    " 'CustomerRegistered', 1, %s, %s, '{}')",
                    (event_id, aggregate_id, now, payload),
                )
                cursor.execute(
                    f"INSERT INTO {OUTBOX_TABLE} (event_id, event_type, aggregate_type,"
                    " aggregate_id, aggregate_version, body, attempts, last_error)"
                    " VALUES (%s, 'CustomerRegistered', 'Customer', %s, 1, %s, 0, '')",
                    (event_id, aggregate_id, payload),
                )
    finally:
        connection.close()


def _library(count: int, writers: int, url: str) -> float:
    output = subprocess.run(
        [str(LIBRARY_PYTHON), "-m", "bench.eventsourcing_recorder"]
        + [url, str(count), str(writers)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])["events_per_second"]


def run(*, runs: int, events: int, writers: list[int], url: str) -> list[dict]:
    rows = []
    for count in writers:
        per_writer = max(events // count, 100)
        platform, statement, library, raw = [], [], [], []
        for run_number in range(runs):
            platform.append(
                concurrent_throughput(
                    _platform_loop,
                    writers=count,
                    per_writer=per_writer,
                    tag=f"store{run_number}",
                    prepare=_envelopes,
                )
            )
            statement.append(
                concurrent_throughput(
                    _platform_statement_loop,
                    writers=count,
                    per_writer=per_writer,
                    tag=f"statement{run_number}",
                    prepare=_envelopes,
                )
            )
            library.append(_library(per_writer, count, url))
            raw.append(
                concurrent_throughput(
                    partial(_raw_loop, dsn=_raw_dsn()),
                    writers=count,
                    per_writer=per_writer,
                    tag=f"raw{run_number}",
                )
            )
        note = (
            f"{per_writer} one-event aggregates per writer per run, "
            "one transaction each"
        )
        platform_subject = (
            f"event_store_append + outbox row in atomic(), {count} writer(s)"
        )
        statement_subject = (
            f"event_store_append + outbox row, one statement, {count} writer(s)"
        )
        library_subject = (
            f"eventsourcing PostgresApplicationRecorder, {count} writer(s)"
        )
        raw_baseline = f"raw psycopg2 event + outbox INSERTs, {count} writer(s)"
        platforms = [(platform_subject, platform), (statement_subject, statement)]
        library_note = note + " (library run in var/bench-eventsourcing)"
        against_raw = [
            (platform_subject, platform, note),
            (statement_subject, statement, note),
            (library_subject, library, library_note),
        ]
        for subject, runs_of, row_note in against_raw:
            rows.append(
                EVENT_STORE.row(
                    subject=(subject, runs_of),
                    baseline=(raw_baseline, raw),
                    note=row_note,
                )
            )
        for subject, runs_of in platforms:
            rows.append(
                VERSUS_LIBRARY.row(
                    subject=(subject, runs_of),
                    baseline=(library_subject, library),
                    target=TARGET,
                    note=note,
                )
            )
    return rows

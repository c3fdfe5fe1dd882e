"""Figure 5: the platform's event store vs the ``eventsourcing`` library's.

Subjects, each one one-event aggregate per transaction: ``event_store_append``
(Django ORM, optimistic concurrency through the unique index) and the
``eventsourcing`` library's ``PostgresApplicationRecorder`` (run in a throwaway
venv under ``var/``, never in the project's dependencies). Baseline: one raw
psycopg2 INSERT into ``event_store`` per transaction.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from datetime import UTC, datetime

import psycopg2
from django.db import transaction

from bench.environment import ROOT
from bench.report import figure_row
from bench.write_path import _raw_dsn
from shared_events.event_store import event_store_append
from shared_events.events import new_envelope

LIBRARY_PYTHON = ROOT / "var" / "bench-eventsourcing" / "bin" / "python"


def _envelope():
    customer_id = uuid.uuid4()
    return new_envelope(
        event_type="CustomerRegistered",
        aggregate_type="Customer",
        aggregate_id=customer_id,
        aggregate_version=1,
        producer="customer",
        payload={
            "customer_id": str(customer_id),
            "name": "Bench Customer",
            "email": f"{customer_id.hex[:12]}@bench.example",
            "address": "1 Benchmark Road",
        },
    )


def _platform(count: int) -> float:
    envelopes = [_envelope() for _ in range(count)]
    started = time.perf_counter()
    for envelope in envelopes:
        with transaction.atomic():
            event_store_append(envelopes=[envelope], expected_version=0)
    return count / (time.perf_counter() - started)


def _raw(count: int) -> float:
    connection = psycopg2.connect(_raw_dsn())
    now = datetime.now(UTC)
    payload = json.dumps({"name": "Bench Customer", "address": "1 Benchmark Road"})
    try:
        started = time.perf_counter()
        for _ in range(count):
            with connection, connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO event_store (event_id, aggregate_type, aggregate_id,"
                    " aggregate_version, event_type, schema_version, occurred_at,"
                    " payload, metadata) VALUES (%s, 'Customer', %s, 1,"
                    " 'CustomerRegistered', 1, %s, %s, '{}')",
                    (str(uuid.uuid4()), str(uuid.uuid4()), now, payload),
                )
        return count / (time.perf_counter() - started)
    finally:
        connection.close()


def _library(count: int, url: str) -> float:
    output = subprocess.run(
        [str(LIBRARY_PYTHON), str(ROOT / "bench" / "eventsourcing_recorder.py")]
        + [url, str(count)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])["events_per_second"]


def run(*, runs: int, events: int, url: str) -> list[dict]:
    _platform(10)
    _raw(10)
    platform, library, raw = [], [], []
    for _ in range(runs):
        platform.append(_platform(events))
        library.append(_library(events, url))
        raw.append(_raw(events))
    note = f"{events} one-event aggregates per run, one transaction each"
    return [
        figure_row(
            figure="5 event store",
            subject="event_store_append (Django)",
            baseline="raw psycopg2 INSERT",
            unit="events/s",
            subject_runs=platform,
            baseline_runs=raw,
            note=note,
        ),
        figure_row(
            figure="5 event store",
            subject="eventsourcing PostgresApplicationRecorder",
            baseline="raw psycopg2 INSERT",
            unit="events/s",
            subject_runs=library,
            baseline_runs=raw,
            note=note + " (library run in var/bench-eventsourcing)",
        ),
    ]

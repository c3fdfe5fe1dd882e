"""Outbox rows for the relay figures: real envelopes, cloned with fresh ids."""

from __future__ import annotations

import json
import uuid

from django.db import connection
from psycopg2.extras import execute_values

from observe.tables import OUTBOX_TABLE
from shared_events.events import encode
from shared_events.testing import customer_events

_COLUMNS = (
    "event_id, event_type, aggregate_type, aggregate_id, aggregate_version, body,"
    " attempts, last_error"
)


def envelope_bodies(count: int) -> list[dict]:
    """``count`` valid CustomerRegistered envelopes, as JSON-ready dicts."""
    bodies = []
    for index in range(count):
        envelope = customer_events.registered(
            uuid.uuid4(),
            name=f"Bench Customer {index}",
            email=f"bench-{index}-{uuid.uuid4().hex[:8]}@bench.example",
            address="1 Benchmark Road, Testville",
        )
        bodies.append(json.loads(encode(envelope)))
    return bodies


def insert_pending(count: int) -> list[dict]:
    """Insert ``count`` unpublished outbox rows; return their envelopes."""
    bodies = envelope_bodies(count)
    values = [
        (
            body["event_id"],
            body["event_type"],
            body["aggregate_type"],
            body["aggregate_id"],
            1,
            json.dumps(body),
            0,
            "",
        )
        for body in bodies
    ]
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor, f"INSERT INTO {OUTBOX_TABLE} ({_COLUMNS}) VALUES %s", values
        )
    return bodies


def insert_published_history(count: int) -> None:
    """``count`` already-published rows: the history a long-lived outbox keeps."""
    body = json.dumps(envelope_bodies(1)[0])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {OUTBOX_TABLE} ({_COLUMNS}, published_at)"
            " SELECT gen_random_uuid(), 'CustomerRegistered', 'Customer',"
            " gen_random_uuid(), 1, %s, 1, '', now() - interval '1 hour'"
            " FROM generate_series(1, %s)",
            (body, count),
        )
        # Settle the bulk insert first: autovacuum of a fresh million-row table
        # and the checkpoint it causes would otherwise overlap the measurement
        # (a long-lived outbox's history is old and vacuumed).
        cursor.execute(f"VACUUM (ANALYZE) {OUTBOX_TABLE}")
        cursor.execute("CHECKPOINT")


def clear_outbox() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {OUTBOX_TABLE}")

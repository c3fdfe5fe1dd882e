"""Figure 1, the write path: commands/s through the service layer vs raw SQL.

Subject: ``customer_register`` with the event-sourced wiring (event store row,
cached state row, outbox row, one transaction), the relay wake-up a no-op.
Baseline: the same three rows inserted by raw psycopg2, one transaction each.
Both at 1 and at N concurrent writers (processes forked after Django setup).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import psycopg2
from django.conf import settings
from django.db import connections

from bench.concurrent_writers import StartLine, race
from bench.report import Figure
from customer_service import bootstrap
from customer_service.customers.services import customer_register
from observe.tables import CUSTOMER_TABLE, EVENT_STORE_TABLE, OUTBOX_TABLE
from shared_events.approaches import Approach

WRITE_PATH = Figure("1 write path", unit="commands/s")
WARM_UP = 5
# The target: a command through the service at least 0.8 of the
# same rows written by raw SQL, with one writer.
WRITE_PATH_TARGET = 0.8


def _register_loop(count: int, tag: str) -> None:
    wiring = bootstrap.build_wiring(Approach.EVENT_SOURCING)
    repository = wiring.customer_repository
    repository.wake_relay = lambda: None
    with bootstrap.overridden(customer_repository=repository):
        for index in range(count):
            customer_register(
                name=f"Bench {tag} {index}",
                email=f"{tag}-{index}-{uuid.uuid4().hex[:8]}@bench.example",
                address="1 Benchmark Road",
            )


def _raw_dsn() -> str:
    config = settings.DATABASES["default"]
    return psycopg2.extensions.make_dsn(
        dbname=config["NAME"],
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
    )


def _raw_loop(count: int, tag: str, *, dsn: str) -> None:
    connection = psycopg2.connect(dsn)
    try:
        for index in range(count):
            _raw_insert(connection, tag, index)
    finally:
        connection.close()


def _raw_insert(connection, tag: str, index: int) -> None:
    customer_id, event_id = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    email = f"raw-{tag}-{index}-{uuid.uuid4().hex[:8]}@bench.example"
    payload = {"name": f"Raw {tag} {index}", "email": email, "address": "1 Raw Road"}
    body = json.dumps(
        {
            "event_id": str(event_id),
            "event_type": "CustomerRegistered",
            "aggregate_id": str(customer_id),
            "aggregate_version": 1,
            "occurred_at": now.isoformat(),
            "payload": payload,
        }
    )
    with connection, connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {EVENT_STORE_TABLE} (event_id, aggregate_type, aggregate_id,"
            " aggregate_version, event_type, schema_version, occurred_at, payload,"
            " metadata) VALUES (%s, 'Customer', %s, 1, 'CustomerRegistered', 1,"
            " %s, %s, %s)",
            (str(event_id), str(customer_id), now, json.dumps(payload), "{}"),
        )
        cursor.execute(
            f"INSERT INTO {CUSTOMER_TABLE} (id, name, email, address, version,"
            " created_at, updated_at) VALUES (%s, %s, %s, %s, 1, %s, %s)",
            (str(customer_id), payload["name"], email, payload["address"], now, now),
        )
        cursor.execute(
            f"INSERT INTO {OUTBOX_TABLE} (event_id, event_type, aggregate_type,"
            " aggregate_id, aggregate_version, body, attempts, last_error)"
            " VALUES (%s, 'CustomerRegistered', 'Customer', %s, 1, %s, 0, '')",
            (str(event_id), str(customer_id), body),
        )


def _writer(loop, prepare, count, tag, start_line: StartLine) -> None:
    loop(*prepare(WARM_UP, f"{tag}w"))
    work = prepare(count, tag)
    start_line.run(lambda: loop(*work))
    connections.close_all()


def _as_is(count: int, tag: str) -> tuple[int, str]:
    return count, tag


def concurrent_throughput(
    loop: Callable[..., None],
    *,
    writers: int,
    per_writer: int,
    tag: str,
    prepare: Callable[[int, str], tuple] = _as_is,
) -> float:
    """Operations/s of ``writers`` processes each doing ``per_writer`` operations.

    Each process is forked after Django setup, warms up, runs ``prepare(count,
    tag)`` untimed (by default it passes ``count, tag`` on), waits on a barrier
    with the others, then runs ``loop(*prepared)``. Throughput = all
    operations / (last finish - first start).
    """
    connections.close_all()  # never share a connection with a forked child
    elapsed = race(
        _writer,
        [(loop, prepare, per_writer, f"{tag}x{n}") for n in range(writers)],
        name=tag,
    )
    return writers * per_writer / elapsed


def _throughput(kind: str, writers: int, per_writer: int, run: int) -> float:
    """Commands/s of ``writers`` processes doing ``per_writer`` commands each."""
    loop = _register_loop if kind == "service" else partial(_raw_loop, dsn=_raw_dsn())
    return concurrent_throughput(
        loop, writers=writers, per_writer=per_writer, tag=f"{kind}{run}"
    )


def run(*, runs: int, commands: int, writers: list[int]) -> list[dict]:
    rows = []
    for count in writers:
        per_writer = max(commands // count, 50)
        service, raw = [], []
        for run_number in range(runs):
            service.append(_throughput("service", count, per_writer, run_number))
            raw.append(_throughput("raw", count, per_writer, run_number))
        rows.append(
            WRITE_PATH.row(
                subject=(f"customer_register, {count} writer(s)", service),
                baseline=(f"raw psycopg2 3 inserts, {count} writer(s)", raw),
                target=("ge", WRITE_PATH_TARGET) if count == 1 else None,
                note=f"{per_writer} commands per writer per run",
            )
        )
    return rows

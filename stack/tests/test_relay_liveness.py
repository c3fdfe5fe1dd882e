"""The relay liveness probe tells a hung relay from one that is merely behind.

A table shaped like ``event_outbox`` (the columns the probe reads) holds rows
whose due and publish times the test chose; the probe's query answers
whether the relay is stuck.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg2
import pytest

from stack import postgres
from stack.platform_run import (
    RELAY_LIVENESS_SECONDS,
    RELAY_PROGRESS_SECONDS,
    STUCK_RELAY_QUERY,
)

SERVER_URL = os.environ.get("DATABASE_SERVER_URL") or postgres.EXTERNAL_URL


@pytest.fixture
def outbox() -> Iterator[psycopg2.extensions.cursor]:
    if not postgres.server_reachable(SERVER_URL):
        pytest.skip("needs a PostgreSQL server")
    name = f"liveness{os.getpid()}_{uuid.uuid4().hex[:6]}"
    postgres.create_databases(server_url=SERVER_URL, names=[name])
    connection = psycopg2.connect(postgres.database_url(SERVER_URL, name))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE event_outbox (id bigserial PRIMARY KEY,"
                " published_at timestamptz, next_attempt_at timestamptz NOT NULL)"
            )
            yield cursor
    finally:
        connection.close()
        postgres.drop_databases(server_url=SERVER_URL, names=[name])


def add(cursor, *, due_seconds_ago: float, published_seconds_ago: float | None):
    cursor.execute(
        "INSERT INTO event_outbox (next_attempt_at, published_at) VALUES"
        " (now() - %s * interval '1 second',"
        "  now() - %s * interval '1 second')",
        [due_seconds_ago, published_seconds_ago],
    )


def stuck(cursor) -> bool:
    cursor.execute(STUCK_RELAY_QUERY, [RELAY_LIVENESS_SECONDS, RELAY_PROGRESS_SECONDS])
    return cursor.fetchone()[0]


def test_overdue_rows_and_nothing_published_is_a_hung_relay(outbox):
    add(outbox, due_seconds_ago=60, published_seconds_ago=None)
    add(outbox, due_seconds_ago=120, published_seconds_ago=100)  # long ago

    assert stuck(outbox)


def test_overdue_rows_while_rows_are_being_published_is_a_relay_behind(outbox):
    add(outbox, due_seconds_ago=60, published_seconds_ago=None)
    # A slow batch: the last rows marked published 20 s ago.
    add(outbox, due_seconds_ago=40, published_seconds_ago=20)

    assert not stuck(outbox)


def test_rows_due_only_just_now_are_not_overdue(outbox):
    add(outbox, due_seconds_ago=1, published_seconds_ago=None)

    assert not stuck(outbox)

"""The relay process killed with SIGKILL in the middle of a batch, then restarted.

A real subprocess (``manage.py --service customer relay_outbox``) relays the test
database's outbox to a real moto server. Nothing is mocked: the kill is the
kernel's, PostgreSQL rolls back the dead relay's transaction and releases its row
locks, and the restarted relay finds every row that was not marked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from shared_events.configuration import REPO_DIR
from shared_events.models import OutboxMessage
from shared_events.outbox.store import outbox_pending_count
from shared_events.outbox.tests.relay_support import (
    Broker,
    QueueDrain,
    append_customer_events,
    database_url,
    duplicates,
    fresh_broker,
    wait_until,
)
from stack.moto_server import MotoServer

pytestmark = pytest.mark.slow

#: Enough for the relay to need ~60 batches, so the kill lands with most of the
#: outbox still to go; more only makes the test slower (moto is the bottleneck).
ROWS = 600
BATCH_SIZE = 10
#: libpq reads PGAPPNAME, so the relay's database session can be told apart.
RELAY_APPLICATION_NAME = "outbox-relay-under-test"


@pytest.fixture
def broker(moto_server: MotoServer) -> Iterator[Broker]:
    yield from fresh_broker(moto_server)


def relay_environment(broker: Broker) -> dict[str, str]:
    """The customer service under approach 4, on the test database and moto.

    With an explicit ``CUSTOMER_DATABASE_URL`` and no ``DATABASE_SERVER_URL``,
    ``manage.py`` uses that database as it is and creates none of its own.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_SERVER_URL", "DATABASE_NAME_PREFIX")
        and not key.startswith("PYTEST")
    }
    env.update(
        CUSTOMER_DATABASE_URL=database_url(connection.settings_dict),
        AWS_ENDPOINT_URL=str(broker.settings.endpoint_url),
        EVENT_TOPOLOGY_PREFIX=broker.prefix,
        ARCHITECTURE_APPROACH="event_sourcing",
        PGAPPNAME=RELAY_APPLICATION_NAME,
        LOG_LEVEL="WARNING",
    )
    return env


def manage(*args: str) -> list[str]:
    return [sys.executable, str(REPO_DIR / "manage.py"), "--service", "customer", *args]


def run_to_completion(env: dict[str, str], *args: str) -> None:
    completed = subprocess.run(
        manage(*args), env=env, cwd=REPO_DIR, capture_output=True, timeout=60
    )
    assert completed.returncode == 0, (
        f"manage.py {' '.join(args)} failed:\n{completed.stdout.decode()}"
        f"{completed.stderr.decode()}"
    )


def published_count() -> int:
    return OutboxMessage.objects.filter(published_at__isnull=False).count()


def relay_holds_a_batch() -> bool:
    """Has the relay's session claimed rows it has not marked yet?

    Between ``SELECT ... FOR UPDATE SKIP LOCKED`` and the ``UPDATE`` that marks
    the accepted rows, the relay is talking to the broker and its session is
    "idle in transaction".
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = %s AND state = 'idle in transaction'",
            [RELAY_APPLICATION_NAME],
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_relay_killed_mid_batch_and_restarted_publishes_every_committed_event(
    broker: Broker, tmp_path: Path
) -> None:
    """At least once: every event committed before the kill reaches the broker.

    The kill lands while the relay holds a claimed batch, so the events of that
    batch may already be at the broker but are not marked: the restarted relay
    publishes them again. Duplicates are allowed (consumers are idempotent) and
    counted; a missing event is the failure.
    """
    committed = append_customer_events(ROWS)
    env = relay_environment(broker)
    run_to_completion(env, "aws_bootstrap")
    log = tmp_path / "relay.log"

    with QueueDrain(broker.sqs(), broker.queue_url) as drain:
        with open(log, "wb") as output:
            relay = subprocess.Popen(
                manage("relay_outbox", "--loop", "--batch-size", str(BATCH_SIZE)),
                env=env,
                cwd=REPO_DIR,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            mid_batch = wait_until(
                lambda: (
                    relay.poll() is not None
                    or (published_count() >= ROWS // 5 and relay_holds_a_batch())
                ),
                timeout=30,
                interval=0.005,
            )
        finally:
            relay.kill()  # SIGKILL: no handler runs, nothing is cleaned up
            relay.wait(timeout=10)
        assert relay.returncode == -signal.SIGKILL, log.read_text()
        assert mid_batch, "the relay never held a batch in time: " + log.read_text()
        published_before_kill = published_count()
        assert 0 < published_before_kill < ROWS

        # Restart: each run relays until nothing is due. Rows the dead relay had
        # claimed are free again once PostgreSQL has noticed the lost connection.
        started = time.monotonic()
        while outbox_pending_count():
            assert time.monotonic() - started < 60, log.read_text()
            run_to_completion(env, "relay_outbox", "--batch-size", str(BATCH_SIZE))
        drain.wait_for(committed, timeout=30)
        received = drain.settle()

    doubled = duplicates(received)
    doubled_rows = sorted(
        OutboxMessage.objects.filter(event_id__in=list(doubled)).values_list(
            "id", flat=True
        )
    )
    print(
        f"killed after {published_before_kill} of {ROWS} rows were marked; "
        f"received {sum(received.values())} messages, {len(doubled)} events twice "
        f"or more (outbox rows {doubled_rows})"
    )
    assert set(received) >= set(committed)
    assert set(received) == set(committed), "only the committed events exist"
    assert outbox_pending_count() == 0

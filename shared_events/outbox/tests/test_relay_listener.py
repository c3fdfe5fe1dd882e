"""A commit wakes the relay through PostgreSQL NOTIFY, a rollback does not.

The listener runs in a thread here, with a relay that publishes to a
recording publisher; in the platform it runs inside each relay worker
(``shared_events.tasks.start_outbox_listener``).
"""

from __future__ import annotations

import select
from collections.abc import Iterator

import psycopg2
import pytest
from django.db import connection, transaction

from shared_events import tasks
from shared_events.outbox.listener import CHANNEL, OutboxListener
from shared_events.outbox.relay import relay_outbox
from shared_events.outbox.tests.relay_support import (
    append_customer_events,
    customer_registered,
    database_url,
    wait_until,
)
from shared_events.transport import RecordingPublisher
from shared_events.write_side import outbox_append

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 20.0  # a bound for the wait, not a speed claim


@pytest.fixture
def listening_connection() -> Iterator[psycopg2.extensions.connection]:
    raw = psycopg2.connect(database_url(connection.settings_dict))
    raw.autocommit = True
    with raw.cursor() as cursor:
        cursor.execute(f"LISTEN {CHANNEL}")
    try:
        yield raw
    finally:
        raw.close()


def notifications(raw, *, wait: float) -> int:
    select.select([raw], [], [], wait)
    raw.poll()
    count = len(raw.notifies)
    raw.notifies.clear()
    return count


def test_a_commit_notifies_once_however_many_rows(listening_connection):
    with transaction.atomic():
        outbox_append(envelopes=[customer_registered(n) for n in range(5)])
        assert notifications(listening_connection, wait=0.2) == 0  # not yet

    assert notifications(listening_connection, wait=WAIT) == 1


def test_a_rolled_back_insert_notifies_no_one(listening_connection):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_append(envelopes=[customer_registered()])
        raise RuntimeError("the command failed")

    assert notifications(listening_connection, wait=0.5) == 0


@pytest.fixture
def listener() -> Iterator[tuple[OutboxListener, RecordingPublisher]]:
    publisher = RecordingPublisher()

    def relay() -> None:
        try:
            relay_outbox(publisher=publisher)
        finally:
            connection.close()  # the thread's own connection

    running = OutboxListener(relay=relay, poll_seconds=0.2)
    running.start()
    assert running.listening.wait(WAIT)
    try:
        yield running, publisher
    finally:
        running.stop()
        running.join(WAIT)


def test_the_listener_relays_what_commits(listener):
    running, publisher = listener

    event_ids = append_customer_events(3)

    assert wait_until(
        lambda: {m.id for m in publisher.published} >= set(event_ids), timeout=WAIT
    ), "the commit did not wake the relay"


def test_the_listener_survives_a_failing_relay():
    calls: list[int] = []

    def failing_relay() -> None:
        calls.append(1)
        connection.close()
        raise RuntimeError("broker on fire")

    running = OutboxListener(relay=failing_relay, poll_seconds=0.2)
    running.start()
    try:
        assert running.listening.wait(WAIT)
        append_customer_events(1)
        append_customer_events(1)
        assert wait_until(lambda: len(calls) >= 2, timeout=WAIT)
        assert running.is_alive()
    finally:
        running.stop()
        running.join(WAIT)


def test_with_notify_a_commit_sends_no_celery_task(settings, monkeypatch):
    sent: list[dict] = []
    monkeypatch.setattr(
        tasks.relay_outbox, "apply_async", lambda **kwargs: sent.append(kwargs)
    )

    settings.EVENT_RELAY_WAKE = "notify"
    tasks.wake_relay()
    assert sent == []

    settings.EVENT_RELAY_WAKE = "celery"
    tasks.wake_relay()
    assert len(sent) == 1


def test_without_notifications_the_listener_sweeps():
    relays: list[int] = []

    def relay() -> None:
        relays.append(1)
        connection.close()

    running = OutboxListener(relay=relay, poll_seconds=0.1, sweep_seconds=0.3)
    running.start()
    try:
        assert running.listening.wait(WAIT)
        # No commit at all: the catch-up relay, then sweeps on their own.
        assert wait_until(lambda: len(relays) >= 3, timeout=WAIT)
    finally:
        running.stop()
        running.join(WAIT)

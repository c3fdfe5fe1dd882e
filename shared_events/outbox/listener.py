"""Relay the moment an outbox row commits: PostgreSQL LISTEN/NOTIFY.

Every insert into ``event_outbox`` notifies the channel ``event_outbox``
when its transaction commits (a trigger, migration 0003). A relay worker
listens on a connection of its own and relays as soon as a notification
arrives: no message through the Celery broker per command, and no wait for
the next sweep. Notifications that arrive while a relay runs are folded into
the next one, so a burst of commits costs a few relays, not one each.

The listener is a wake-up, not the guarantee. Rows stay in the outbox until
the broker accepts them, and two sweeps publish rows whose retry is due and
anything committed while the listener was reconnecting: the listener's own
(a relay every ``EVENT_RELAY_SWEEP_SECONDS`` without a notification, so the
relay keeps going even if the Celery worker's connection to its broker
hangs) and the periodic Celery beat task.

Where LISTEN is not available (a connection pooler in transaction mode, for
one), set ``EVENT_RELAY_WAKE=celery``: each commit then sends a relay task
through the Celery broker instead.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable

import psycopg2
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

CHANNEL = "event_outbox"


class OutboxListener(threading.Thread):
    """Calls ``relay`` after each batch of outbox notifications, until stopped."""

    def __init__(
        self,
        *,
        relay: Callable[[], object],
        database: str = "default",
        poll_seconds: float = 1.0,
        sweep_seconds: float | None = None,
    ) -> None:
        super().__init__(name="outbox-listener", daemon=True)
        self.relay = relay
        self.database = database
        self.poll_seconds = poll_seconds
        # Relay this often even without a notification: rows whose retry is
        # due, whatever happens to the Celery worker's own sweep.
        self.sweep_seconds = sweep_seconds
        self._last_relay = 0.0
        self.stopping = threading.Event()
        self.listening = threading.Event()
        self.relays = 0

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        pause = 0.5
        while not self.stopping.is_set():
            try:
                self._listen()
                pause = 0.5
            except psycopg2.Error as error:
                self.listening.clear()
                logger.warning(
                    "outbox listener paused %.1fs (the sweep still relays): %s",
                    pause,
                    error,
                )
                self.stopping.wait(pause)
                pause = min(pause * 2, 10.0)

    def _listen(self) -> None:
        params = connections[self.database].get_connection_params()
        connection = psycopg2.connect(**params)
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            # Whatever committed before LISTEN took effect is relayed now.
            self._relay()
            while not self.stopping.is_set():
                ready, _, _ = select.select([connection], [], [], self.poll_seconds)
                if ready:
                    connection.poll()
                if connection.notifies:
                    connection.notifies.clear()
                    self._relay()
                elif self._sweep_due():
                    self._relay()
        finally:
            self.listening.clear()
            connection.close()

    def _sweep_due(self) -> bool:
        return (
            self.sweep_seconds is not None
            and time.monotonic() - self._last_relay >= self.sweep_seconds
        )

    def _relay(self) -> None:
        self._last_relay = time.monotonic()
        try:
            self.relay()
            self.relays += 1
        except Exception:
            # The rows stay in the outbox; the next notification or the
            # sweep tries again. The listener itself must not die.
            logger.exception("relay after an outbox notification failed")
            close_old_connections()


_listener: OutboxListener | None = None


def start_listener(
    relay: Callable[[], object], *, sweep_seconds: float | None = None
) -> OutboxListener:
    """Start this process's listener (once)."""
    global _listener
    if _listener is None or not _listener.is_alive():
        _listener = OutboxListener(relay=relay, sweep_seconds=sweep_seconds)
        _listener.start()
    return _listener

"""The faults a round injects, and the wait for quiescence after them.

- ``kill_relay``: SIGKILL a Celery relay worker (and its pool) mid-run; the
  platform's supervisor restarts it, and whatever it published but had not
  yet marked is published again (a wire duplicate, never a loss).
- ``kill_consumer``: SIGKILL a consumer while messages flow, so some are
  applied but not yet deleted from the queue; they come back after their
  visibility timeout and must change nothing.
- ``kill_functions`` (the AWS backends): SIGKILL an event source mapping
  runner while records flow, so a batch may be applied but not yet
  checkpointed; the restarted runner hands it over again from the
  checkpoint and the handlers must change nothing.
- ``broker_outage``: the TCP proxy in front of the local AWS refuses every
  connection for a few seconds.
- ``restart_postgres``: a fast shutdown of the platform's PostgreSQL server
  (``pg_ctl stop -m fast``: open transactions roll back, every client is
  disconnected) while commands are being sent, a few seconds down, then a
  start on the same port and data directory. The web servers, relays,
  consumers and projectors must reconnect by themselves; the commands sent
  meanwhile fail or are indeterminate (``history.INDETERMINATE``).
- ``Tap``: a queue subscribed to every topic sees every message published;
  ``redeliver`` sends some of them again, shuffled, to every inbox that
  subscribes to the producer: deliveries twice and out of order.

The suite's platforms run on a PostgreSQL server of their own, an embedded
one in a temporary directory on a free port (``stack.postgres.throwaway_server``):
restarting the server on 127.0.0.1:5432 would disturb everyone else using it.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import time
from collections import Counter

import requests

from observe.quiescence import Backlog, BacklogProbe
from observe.tables import OUTBOX_TABLE
from observe.tap import EventTap
from stack import postgres
from stack.connections import fetch_value
from stack.platform_run import PlatformRun


def relays(run: PlatformRun) -> list[str]:
    return sorted(key for key in run.workers if key.endswith("-relay"))


def consumers(run: PlatformRun) -> list[str]:
    return sorted(
        key for key in run.workers if key.endswith(("-consumer", "-projector"))
    )


def functions(run: PlatformRun) -> list[str]:
    """The event source mapping runners: each calls its service's Lambda
    handlers (consumers, projectors, the DynamoDB stream's publisher)."""
    return sorted(key for key in run.workers if key.endswith("-functions"))


def sigkill(run: PlatformRun, key: str) -> bool:
    """SIGKILL a worker's whole process group; the supervisor restarts it."""
    process = run.workers[key].process
    if process.poll() is not None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        process.wait(timeout=5)
    return True


def broker_outage(run: PlatformRun, seconds: float) -> None:
    run.broker_proxy.refuse()
    try:
        time.sleep(seconds)
    finally:
        run.broker_proxy.restore()


def restart_postgres(server: postgres.EmbeddedPostgres, seconds: float) -> None:
    """Fast shutdown, ``seconds`` down, start again on the same port."""
    postgres.restart_embedded(server, down_for=seconds)


class Tap(EventTap):
    """Sees every published message; sends some again, shuffled."""

    def __init__(self, run: PlatformRun, rng: random.Random) -> None:
        super().__init__(run, name="reliability-tap")
        self.rng = rng
        self.redelivered = 0

    def redeliver(self, share: float) -> int:
        """Send a random share of the tapped messages again, in shuffled order."""
        self.drain()
        if not self.seen:
            return 0
        chosen = self.rng.sample(self.seen, max(1, int(len(self.seen) * share)))
        self.rng.shuffle(chosen)
        sent = self.send_again(chosen)
        self.redelivered += sent
        return sent

    def published_twice(self) -> int:
        """Copies the producers themselves published beyond the first."""
        counts = Counter(json.loads(m["Body"])["event_id"] for m in self.seen)
        return sum(count - 1 for count in counts.values())


def wait_until_healthy(run: PlatformRun, *, timeout: float) -> float | None:
    """Seconds until both services' health checks (a database query) answer
    200 again; None if they do not within ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if all(
                requests.get(f"{run.url(service)}/api/health/", timeout=2).ok
                for service in ("customer", "order")
            ):
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.25)
    return None


# A relay whose due outbox rows stay unpublished this long past their
# next attempt is hung, not backing off: its sweep runs every two seconds.
OVERDUE_SECONDS = 8
RESTART_GRACE_SECONDS = 20


def overdue(run: PlatformRun, service: str) -> int:
    return fetch_value(
        run.database_url(service),
        f"SELECT count(*) FROM {OUTBOX_TABLE} WHERE published_at IS NULL AND "
        "next_attempt_at < now() - %s * interval '1 second'",
        [OVERDUE_SECONDS],
        connect_timeout=5,
    )


def wait_for_quiescence(
    run: PlatformRun,
    tap: object,
    *,
    timeout: float,
    stable_for: float = 1.5,
    hangs: list[str] | None = None,
) -> tuple[bool, dict[str, int], float]:
    """Wait until every outbox, inbox and stream read by a Lambda function is
    empty (and stays so for a moment): ``observe.quiescence``.

    A relay process that is alive but no longer relays (see "known
    limitations" in docs/reliability.md) is SIGKILLed, as a liveness probe
    would, so the supervisor restarts it; each such restart is appended to
    ``hangs``. Returns (quiet, what was left at the end, seconds waited).
    """
    probe = BacklogProbe(run)
    killed_at: dict[str, float] = {}

    def kill_hung_relays(left: Backlog) -> None:
        for service, unpublished in left.outboxes.items():
            key = f"{service}-relay"
            # A relay (re)started or killed a moment ago gets its chance.
            last = max(killed_at.get(key, -1e9), run.started_at.get(key, -1e9))
            if (
                key in run.workers
                and unpublished
                and time.monotonic() - last > RESTART_GRACE_SECONDS
                and overdue(run, service)
            ):
                killed_at[key] = time.monotonic()
                if sigkill(run, key) and hangs is not None:
                    hangs.append(key)

    started = time.monotonic()
    outcome = probe.wait_until_quiet(
        timeout=timeout, stable_for=stable_for, on_poll=kill_hung_relays
    )
    return outcome.quiet, outcome.left.as_dict(), time.monotonic() - started

"""Concurrent writers through HTTP.

- Many writers race on ONE aggregate with ``expected_version``: exactly one
  wins per version, every other gets 409, and nothing is lost: the final
  version is the number of wins plus one (the registration).
- Ten writers commit in random order while the relay runs: transactions
  that took their outbox ids in one order and committed in another must not
  make the relay skip a row; every committed event reaches the consumers.

Under ``EVENT_STORE=dynamodb`` the race is decided by the conditional
``PutItem`` (and the state row before it): the same answers, and the
versions are read from the event table. A platform that injects throttling
also answers some writers 503 "did not take the commit": a refusal that
changed nothing, counted apart.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from observe.event_tables import EventTables
from observe.tables import EVENT_STORE_TABLE
from stack.connections import fetch_rows
from stack.platform_run import PlatformRun
from tests.reliability import faults
from tests.reliability.history import NOT_APPLIED, Verdict, judge
from tests.reliability.rounds import (
    QUIESCENCE_TIMEOUT,
    base_seed,
    label_of,
    outcome_of,
    reset_round,
    tap_for,
)

WRITERS = 8
ATTEMPTS_PER_WRITER = 6
# A 503 that changed nothing (a throttled commit), told apart from a plain 503.
THROTTLED = "503 not applied"


def _session(run: PlatformRun) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {run.token}"
    return session


@dataclass
class RaceOutcome:
    wins: int = 0
    conflicts: int = 0
    throttled: int = 0  # 503, the event store did not take the commit
    unexpected_statuses: dict[str, int] = field(default_factory=dict)
    double_winners: list[int] = field(default_factory=list)
    final_version: int = 0
    store_versions: list[int] = field(default_factory=list)


def _register(run: PlatformRun, session: requests.Session, **fields) -> dict:
    """Register a customer, again while the answer is a throttled 503."""
    for _ in range(20):
        response = session.post(
            f"{run.url('customer')}/api/customers/register/", json=fields, timeout=15
        )
        if outcome_of(response) != NOT_APPLIED:
            response.raise_for_status()
            return response.json()
    raise AssertionError("registration throttled 20 times in a row")


def committed_versions(run: PlatformRun, *, service: str, aggregate_id: str) -> list:
    """The aggregate's versions in its event store (PostgreSQL or DynamoDB)."""
    tables = EventTables.of_platform(run)
    if tables is not None and service in tables.names:
        return sorted(
            envelope.aggregate_version
            for commit in tables.commits(service)
            if commit.aggregate_id == aggregate_id
            for envelope in commit.envelopes
        )
    rows = fetch_rows(
        run.database_url(service),
        f"SELECT aggregate_version FROM {EVENT_STORE_TABLE} "
        "WHERE aggregate_id = %s ORDER BY aggregate_version",
        [aggregate_id],
    )
    return [row[0] for row in rows]


def concurrent_writers_one_aggregate(run: PlatformRun) -> RaceOutcome:
    reset_round(run)
    base = run.url("customer")
    customer = _register(
        run, _session(run), name="Race", email="race@example.com", address="1 Race"
    )
    url = f"{base}/api/customers/{customer['id']}/"
    start = threading.Barrier(WRITERS)
    lock = threading.Lock()
    results: list[tuple[int, int]] = []  # (status, expected_version)

    def writer(number: int) -> None:
        session = _session(run)
        start.wait()
        for attempt in range(ATTEMPTS_PER_WRITER):
            version = session.get(url, timeout=15).json()["version"]
            response = session.post(
                f"{url}update/",
                json={
                    "name": f"Writer {number}.{attempt}",
                    "expected_version": version,
                },
                timeout=15,
            )
            status = response.status_code
            if outcome_of(response) == NOT_APPLIED:
                status = THROTTLED
            with lock:
                results.append((status, version))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome = RaceOutcome()
    winners = Counter(version for status, version in results if status == 200)
    outcome.wins = sum(winners.values())
    outcome.conflicts = sum(1 for status, _ in results if status == 409)
    outcome.throttled = sum(1 for status, _ in results if status == THROTTLED)
    outcome.unexpected_statuses = dict(
        Counter(
            str(status) for status, _ in results if status not in (200, 409, THROTTLED)
        )
    )
    outcome.double_winners = sorted(v for v, count in winners.items() if count > 1)
    outcome.final_version = _session(run).get(url, timeout=15).json()["version"]
    outcome.store_versions = committed_versions(
        run, service="customer", aggregate_id=customer["id"]
    )
    print(
        f"\n[{label_of(run)}] expected_version race: {len(results)} attempts by "
        f"{WRITERS} writers, {outcome.wins} won (200), {outcome.conflicts} lost "
        f"(409), {outcome.throttled} throttled (503, nothing changed), final "
        f"version {outcome.final_version}",
        flush=True,
    )
    return outcome


@dataclass
class RelayOutcome:
    commits: int
    quiet: bool
    left: dict
    verdict: Verdict
    relay_hangs: list[str]


def ten_writers_while_relaying(run: PlatformRun, *, writers: int = 10) -> RelayOutcome:
    seed = base_seed()
    print(f"\n[{label_of(run)}] ten writers seed={seed}", flush=True)
    reset_round(run)
    tap = tap_for(run, random.Random(seed))
    base = run.url("customer")
    start = threading.Barrier(writers)
    lock = threading.Lock()
    commits = 0
    hangs: list[str] = []

    def writer(number: int) -> None:
        nonlocal commits
        rng = random.Random(seed * 100 + number)
        session = _session(run)
        start.wait()
        done = 0
        response = session.post(
            f"{base}/api/customers/register/",
            json={
                "name": f"Writer {number}",
                "email": f"writer{number}@example.com",
                "address": f"{number} Relay Road",
            },
            timeout=15,
        )
        if response.status_code != 201:
            return
        done += 1
        customer_id = response.json()["id"]
        for step in range(rng.randint(3, 6)):
            time.sleep(rng.uniform(0, 0.05))
            response = session.post(
                f"{base}/api/customers/{customer_id}/update/",
                json={"address": f"{step} Relay Road, writer {number}"},
                timeout=15,
            )
            done += response.status_code == 200
        with lock:
            commits += done

    try:
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        quiet, left, waited = faults.wait_for_quiescence(
            run, tap, timeout=QUIESCENCE_TIMEOUT, hangs=hangs
        )
        verdict = judge(run)
    finally:
        tap.close()
    print(
        f"[{label_of(run)}] ten writers: {commits} commits; {verdict.line()}; "
        f"quiescent after {waited:.1f}s; hung relays restarted {len(hangs)}",
        flush=True,
    )
    return RelayOutcome(
        commits=commits, quiet=quiet, left=left, verdict=verdict, relay_hangs=hangs
    )

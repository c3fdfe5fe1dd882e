"""Concurrent writers through HTTP.

- Many writers race on ONE aggregate with ``expected_version``: exactly one
  wins per version, every other gets 409, and nothing is lost: the final
  version is the number of wins plus one (the registration).
- Ten writers commit in random order while the relay runs: transactions
  that took their outbox ids in one order and committed in another must not
  make the relay skip a row; every committed event reaches the consumers.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from observe.tables import EVENT_STORE_TABLE
from stack.connections import fetch_rows
from stack.platform_run import PlatformRun
from tests.reliability import faults
from tests.reliability.history import Verdict, judge
from tests.reliability.rounds import QUIESCENCE_TIMEOUT, base_seed

WRITERS = 8
ATTEMPTS_PER_WRITER = 6


def _session(run: PlatformRun) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {run.token}"
    return session


@dataclass
class RaceOutcome:
    wins: int = 0
    conflicts: int = 0
    unexpected_statuses: dict[str, int] = field(default_factory=dict)
    double_winners: list[int] = field(default_factory=list)
    final_version: int = 0
    store_versions: list[int] = field(default_factory=list)


def concurrent_writers_one_aggregate(run: PlatformRun) -> RaceOutcome:
    run.reset_data()
    base = run.url("customer")
    customer = (
        _session(run)
        .post(
            f"{base}/api/customers/register/",
            json={"name": "Race", "email": "race@example.com", "address": "1 Race"},
            timeout=15,
        )
        .json()
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
            with lock:
                results.append((response.status_code, version))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome = RaceOutcome()
    winners = Counter(version for status, version in results if status == 200)
    outcome.wins = sum(winners.values())
    outcome.conflicts = sum(1 for status, _ in results if status == 409)
    outcome.unexpected_statuses = dict(
        Counter(str(status) for status, _ in results if status not in (200, 409))
    )
    outcome.double_winners = sorted(v for v, count in winners.items() if count > 1)
    outcome.final_version = _session(run).get(url, timeout=15).json()["version"]
    rows = fetch_rows(
        run.database_url("customer"),
        f"SELECT aggregate_version FROM {EVENT_STORE_TABLE} "
        "WHERE aggregate_id = %s ORDER BY aggregate_version",
        [customer["id"]],
    )
    outcome.store_versions = [row[0] for row in rows]
    print(
        f"\n[{run.approach}] expected_version race: {len(results)} attempts by "
        f"{WRITERS} writers, {outcome.wins} won (200), {outcome.conflicts} lost "
        f"(409), final version {outcome.final_version}",
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
    print(f"\n[{run.approach}] ten writers seed={seed}", flush=True)
    run.reset_data()
    tap = faults.Tap(run, random.Random(seed))
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
        f"[{run.approach}] ten writers: {commits} commits; {verdict.line()}; "
        f"quiescent after {waited:.1f}s; hung relays restarted {len(hangs)}",
        flush=True,
    )
    return RelayOutcome(
        commits=commits, quiet=quiet, left=left, verdict=verdict, relay_hangs=hangs
    )

"""One fault-injection round: random commands, random faults, then the checker.

A round is seeded (``random.Random(seed)``, the seed is printed) so that
the command mix and the fault schedule can be replayed; the timing of the
processes is not, which is the point.
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

import requests

from lab.client import PlatformClient
from stack.platform_run import PlatformRun
from tests.reliability import faults
from tests.reliability.history import Verdict, judge

QUIESCENCE_TIMEOUT = float(os.environ.get("RELIABILITY_QUIESCENCE_TIMEOUT", "120"))
# Shorter than the platform default (30 s) so that a killed consumer's
# in-flight messages come back within a bounded round.
VISIBILITY_TIMEOUT = os.environ.get("RELIABILITY_VISIBILITY_TIMEOUT", "8")


# With RELIABILITY_STRICT_LIVENESS=1 a relay that hung (alive, relaying
# nothing) fails the round instead of being restarted and reported.
STRICT_LIVENESS = os.environ.get("RELIABILITY_STRICT_LIVENESS") == "1"


def rounds_wanted(default: int = 1) -> int:
    """Rounds per approach: one under make test (two in all), more in make soak."""
    return max(1, int(os.environ.get("RELIABILITY_ROUNDS", default)))


def base_seed() -> int:
    value = os.environ.get("RELIABILITY_SEED")
    return int(value) if value else random.SystemRandom().randrange(1, 10**9)


def platform_env() -> dict[str, str]:
    return {"EVENT_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT}


def client_for(run: PlatformRun) -> PlatformClient:
    return PlatformClient(
        customer_url=run.url("customer"), order_url=run.url("order"), token=run.token
    )


@dataclass
class RoundResult:
    approach: str
    seed: int
    commands: dict[str, int] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    verdict: Verdict | None = None
    quiet: bool = False
    waited: float = 0.0
    left: dict = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    relay_hangs: list[str] = field(default_factory=list)

    def line(self) -> str:
        faults_text = ",".join(self.faults) or "none"
        commands = sum(self.commands.values())
        return (
            f"[{self.approach} seed={self.seed}] commands {commands} faults "
            f"{faults_text}; {self.verdict.line()}; quiescent "
            f"{'yes' if self.quiet else 'NO ' + str(self.left)} after "
            f"{self.waited:.1f}s; hung relays restarted {len(self.relay_hangs)}"
        )


class Workload:
    """Random commands through HTTP; remembers what exists to pick targets."""

    def __init__(self, client: PlatformClient, rng: random.Random) -> None:
        self.client = client
        self.rng = rng
        self.customers: dict[str, int] = {}  # id -> version
        self.orders: list[str] = []
        self.counts: dict[str, int] = {}

    def _count(self, name: str, status: int) -> None:
        key = f"{name}:{status}"
        self.counts[key] = self.counts.get(key, 0) + 1

    def step(self, index: int) -> None:
        choice = self.rng.choices(
            ["register", "rename", "place", "cancel", "delete"],
            weights=[3, 3, 3, 1, 1],
        )[0]
        if choice != "register" and not self.customers:
            choice = "register"
        session = self.client.session
        customer_url = self.client.customer_url
        try:
            if choice == "register":
                response = session.post(
                    f"{customer_url}/api/customers/register/",
                    json={
                        "name": f"Reliability {index}",
                        "email": f"r{index}.{self.rng.randrange(10**9)}@example.com",
                        "address": f"{index} Fault Street",
                    },
                    timeout=15,
                )
                if response.status_code == 201:
                    body = response.json()
                    self.customers[body["id"]] = body["version"]
            elif choice == "rename":
                customer_id = self.rng.choice(sorted(self.customers))
                response = session.post(
                    f"{customer_url}/api/customers/{customer_id}/update/",
                    json={"name": f"Renamed {index}"},
                    timeout=15,
                )
            elif choice == "delete":
                customer_id = self.rng.choice(sorted(self.customers))
                response = session.post(
                    f"{customer_url}/api/customers/{customer_id}/delete/",
                    json={},
                    timeout=15,
                )
                if response.status_code == 204:
                    self.customers.pop(customer_id)
            elif choice == "place":
                customer_id = self.rng.choice(sorted(self.customers))
                response = self.client.place_order(
                    customer_id=customer_id,
                    lines=[("REL-1", self.rng.randint(1, 3), Decimal("9.50"))],
                )
                if response.status_code == 201:
                    self.orders.append(response.json()["id"])
            else:  # cancel
                if not self.orders:
                    return
                order_id = self.rng.choice(self.orders)
                response = session.post(
                    f"{self.client.order_url}/api/orders/{order_id}/cancel/",
                    json={},
                    timeout=15,
                )
        except requests.RequestException as error:
            self._count(choice, error.__class__.__name__)
            return
        self._count(choice, response.status_code)


def run_round(run: PlatformRun, seed: int) -> RoundResult:
    """Reset the data, run one seeded round, wait for quiescence, check."""
    rng = random.Random(seed)
    result = RoundResult(approach=run.approach, seed=seed)
    print(f"\n[{run.approach}] round seed={seed}", flush=True)
    run.reset_data()
    before = dict(run.restarts)
    tap = faults.Tap(run, rng)
    try:
        workload = Workload(client_for(run), rng)
        commands = rng.randint(20, 30)
        schedule = _fault_schedule(rng, commands)
        background: list[threading.Thread] = []
        for index in range(commands):
            for fault in schedule.get(index, []):
                result.faults.append(fault)
                thread = _inject(run, tap, rng, fault)
                if thread is not None:
                    background.append(thread)
            workload.step(index)
            if rng.random() < 0.2:
                time.sleep(rng.uniform(0.05, 0.4))
            tap.drain()
        for thread in background:
            thread.join()
        # The last deliveries twice and out of order, once the flow settles.
        time.sleep(1.0)
        tap.redeliver(share=0.5)
        result.faults.append("redeliver-final")
        result.quiet, result.left, result.waited = faults.wait_for_quiescence(
            run, tap, timeout=QUIESCENCE_TIMEOUT, hangs=result.relay_hangs
        )
        tap.drain()
        result.commands = workload.counts
        result.verdict = judge(run)
        result.verdict.wire_duplicates = tap.redelivered + tap.published_twice()
    finally:
        tap.close()
    result.restarts = {
        key: count - before.get(key, 0)
        for key, count in run.restarts.items()
        if count - before.get(key, 0)
    }
    print(result.line(), flush=True)
    if result.restarts:
        print(f"    supervisor restarts: {result.restarts}", flush=True)
    for problem in _problems(result.verdict)[:10]:
        print(f"    {problem}", flush=True)
    return result


FAULTS = ["kill-relay", "kill-consumer", "broker-outage", "redeliver"]


def _fault_schedule(rng: random.Random, commands: int) -> dict[int, list[str]]:
    """Each fault once or twice, at random points of the command stream."""
    schedule: dict[int, list[str]] = {}
    for fault in FAULTS:
        for _ in range(rng.randint(1, 2)):
            schedule.setdefault(rng.randrange(3, commands), []).append(fault)
    return schedule


def _inject(
    run: PlatformRun, tap: faults.Tap, rng: random.Random, fault: str
) -> threading.Thread | None:
    if fault == "kill-relay":
        faults.sigkill(run, rng.choice(faults.relays(run)))
    elif fault == "kill-consumer":
        faults.sigkill(run, rng.choice(faults.consumers(run)))
    elif fault == "redeliver":
        tap.redeliver(share=rng.uniform(0.2, 0.6))
    elif fault == "broker-outage":
        seconds = rng.uniform(2.0, 4.0)
        thread = threading.Thread(
            target=faults.broker_outage, args=(run, seconds), daemon=True
        )
        thread.start()
        return thread
    return None


def _problems(verdict: Verdict) -> list[str]:
    return (
        [f"lost: {c} {e}" for c, e in verdict.lost]
        + [f"unexpected: {c} {e}" for c, e in verdict.unexpected]
        + [f"out of order: {c} {a}" for c, a in verdict.out_of_order]
        + [f"duplicated effect: {text}" for text in verdict.duplicated_effects]
        + [f"effect drift: {text}" for text in verdict.effect_drift]
    )


@dataclass
class Totals:
    rounds: int = 0
    events: int = 0
    applied: int = 0
    lost: int = 0
    duplicated_effects: int = 0
    unexpected: int = 0
    out_of_order: int = 0
    effect_drift: int = 0
    wire_duplicates: int = 0
    not_quiescent: int = 0
    restarts: int = 0
    relay_hangs: int = 0

    def add(self, result: RoundResult) -> None:
        verdict = result.verdict
        self.rounds += 1
        self.events += verdict.committed
        self.applied += verdict.applied
        self.lost += len(verdict.lost)
        self.duplicated_effects += len(verdict.duplicated_effects)
        self.unexpected += len(verdict.unexpected)
        self.out_of_order += len(verdict.out_of_order)
        self.effect_drift += len(verdict.effect_drift)
        self.wire_duplicates += verdict.wire_duplicates
        self.not_quiescent += 0 if result.quiet else 1
        self.restarts += sum(result.restarts.values())
        self.relay_hangs += len(result.relay_hangs)

    def line(self, label: str) -> str:
        return (
            f"TOTALS {label}: rounds {self.rounds}, events {self.events}, "
            f"applications {self.applied}, lost {self.lost}, duplicated effects "
            f"{self.duplicated_effects}, unexpected {self.unexpected}, out-of-order "
            f"{self.out_of_order}, effect drift {self.effect_drift}, wire duplicates "
            f"{self.wire_duplicates}, not quiescent {self.not_quiescent}, worker "
            f"restarts {self.restarts}, hung relays restarted {self.relay_hangs}"
        )


TOTALS: dict[str, Totals] = {}


def run_rounds(run: PlatformRun) -> list[RoundResult]:
    seed = base_seed()
    results = []
    totals = TOTALS.setdefault(run.approach, Totals())
    for number in range(rounds_wanted()):
        result = run_round(run, seed + number)
        totals.add(result)
        results.append(result)
    print(totals.line(run.approach), flush=True)
    return results

"""One fault-injection round: random commands, random faults, then the checker.

A round is seeded (``random.Random(seed)``, the seed is printed) so that
the command mix and the fault schedule can be replayed; the timing of the
processes is not, which is the point.

Every command carries a correlation id of its own (``X-Correlation-ID``),
which the event it records keeps, and its outcome is remembered as the
client saw it: acknowledged, refused or indeterminate (``history.Command``).

The faults follow the platform's backends: a relay to kill only where there
is an outbox, the event source mapping runners (``<service>-functions``)
where Lambda handlers do the work, a poison record only on a Kinesis
stream, the tap on the topics or on the streams (``streams``).
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from lab.client import PlatformClient
from lab.reset import empty_event_tables
from stack.platform_run import PlatformRun
from stack.postgres import EmbeddedPostgres
from tests.reliability import faults, streams
from tests.reliability.history import (
    ACKNOWLEDGED,
    INDETERMINATE,
    NOT_APPLIED,
    REFUSED,
    Command,
    Verdict,
    judge,
)

QUIESCENCE_TIMEOUT = float(os.environ.get("RELIABILITY_QUIESCENCE_TIMEOUT", "120"))
# Shorter than the platform default (30 s) so that a killed consumer's
# in-flight messages come back within a bounded round.
VISIBILITY_TIMEOUT = os.environ.get("RELIABILITY_VISIBILITY_TIMEOUT", "8")


# With RELIABILITY_STRICT_LIVENESS=1 a relay that hung (alive, relaying
# nothing) fails the round instead of being restarted and reported.
STRICT_LIVENESS = os.environ.get("RELIABILITY_STRICT_LIVENESS") == "1"

# A command still unanswered after this long is a hang, which a database
# outage must not cause: requests fail fast while the server is down.
REQUEST_TIMEOUT = 15


def rounds_wanted(default: int = 1) -> int:
    """Rounds per approach: one under make test (two in all), more in make soak."""
    return max(1, int(os.environ.get("RELIABILITY_ROUNDS", default)))


def base_seed() -> int:
    value = os.environ.get("RELIABILITY_SEED")
    return int(value) if value else random.SystemRandom().randrange(1, 10**9)


# Low enough that customers with a few orders reach it: the credit saga
# refuses some orders in every round (orders here are 9.50 to 28.50).
CREDIT_LIMIT = "60.00"


def platform_env() -> dict[str, str]:
    return {
        "EVENT_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT,
        "CREDIT_LIMIT": CREDIT_LIMIT,
    }


def client_for(run: PlatformRun) -> PlatformClient:
    return PlatformClient(
        customer_url=run.url("customer"), order_url=run.url("order"), token=run.token
    )


@dataclass
class RoundResult:
    approach: str  # with its backends, when they are not the defaults
    seed: int
    commands: dict[str, int] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    verdict: Verdict | None = None
    quiet: bool = False
    waited: float = 0.0
    left: dict = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    relay_hangs: list[str] = field(default_factory=list)
    # Requests that timed out (hung) and faults that could not be injected.
    timeouts: int = 0
    slowest_answer: tuple[float, str] = (0.0, "")
    fault_errors: list[str] = field(default_factory=list)
    recovered_after: float | None = None  # seconds until both services were healthy

    def line(self) -> str:
        faults_text = ",".join(self.faults) or "none"
        commands = sum(self.commands.values())
        return (
            f"[{self.approach} seed={self.seed}] commands {commands} faults "
            f"{faults_text}; {self.verdict.line()}; slowest answer "
            f"{self.slowest_answer[0]:.1f}s ({self.slowest_answer[1]}), timeouts "
            f"{self.timeouts}; healthy "
            f"{'NEVER' if self.recovered_after is None else 'yes'} after the faults; "
            "quiescent "
            f"{'yes' if self.quiet else 'NO ' + str(self.left)} after "
            f"{self.waited:.1f}s; hung relays restarted {len(self.relay_hangs)}"
        )


def outcome_of(response: requests.Response | None) -> str:
    """What the client learned: no answer or a 5xx leaves the write unknown,
    except a 503 saying the event store did not take the commit (throttled):
    nothing changed."""
    if (
        response is not None
        and response.status_code == 503
        and NOT_TAKEN in _detail(response)
    ):
        return NOT_APPLIED
    if response is None or response.status_code >= 500:
        return INDETERMINATE
    return REFUSED if response.status_code >= 400 else ACKNOWLEDGED


# What the DynamoDB event table says when it refused a commit outright
# (shared_events.write_side.dynamodb.table: throttled, or a client error);
# a lost answer says "did not answer the commit (it may have been applied".
NOT_TAKEN = "did not take the commit"


def _detail(response: requests.Response) -> str:
    try:
        return str(response.json().get("detail", ""))
    except ValueError:
        return ""


class Workload:
    """Random commands through HTTP; remembers what exists to pick targets."""

    def __init__(self, client: PlatformClient, rng: random.Random) -> None:
        self.client = client
        self.rng = rng
        self.customers: dict[str, int] = {}  # id -> version
        self.orders: list[str] = []
        self.counts: dict[str, int] = {}
        self.history: list[Command] = []
        self.timeouts = 0
        self.slowest: tuple[float, str] = (0.0, "")

    def _count(self, name: str, status: int | str) -> None:
        key = f"{name}:{status}"
        self.counts[key] = self.counts.get(key, 0) + 1

    def step(self, index: int) -> None:
        choice = self.rng.choices(
            ["register", "rename", "place", "cancel", "delete"],
            weights=[3, 3, 3, 1, 1],
        )[0]
        if choice != "register" and not self.customers:
            choice = "register"
        if choice == "cancel" and not self.orders:
            return
        url, payload = self._request(choice, index)
        correlation_id = str(uuid.uuid4())
        started = time.monotonic()
        response = None
        try:
            response = self.client.session.post(
                url,
                json=payload,
                headers={"X-Correlation-ID": correlation_id},
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException as error:
            self.timeouts += isinstance(error, requests.Timeout)
            answer = error.__class__.__name__
        else:
            answer = response.status_code
        self._count(choice, answer)
        self.slowest = max(
            self.slowest, (time.monotonic() - started, f"{choice} {answer}")
        )
        outcome = outcome_of(response)
        self.history.append(Command(correlation_id, choice, outcome))
        if response is not None:
            self._remember(choice, url, response)
        if outcome == INDETERMINATE:
            # A client backs off after a failure; the outage does not swallow
            # the rest of the round's commands at ten milliseconds each.
            time.sleep(0.25)

    def _request(self, choice: str, index: int) -> tuple[str, dict]:
        customer_url = self.client.customer_url
        if choice == "register":
            return f"{customer_url}/api/customers/register/", {
                "name": f"Reliability {index}",
                "email": f"r{index}.{self.rng.randrange(10**9)}@example.com",
                "address": f"{index} Fault Street",
            }
        if choice == "cancel":
            order_id = self.rng.choice(self.orders)
            return f"{self.client.order_url}/api/orders/{order_id}/cancel/", {}
        customer_id = self.rng.choice(sorted(self.customers))
        if choice == "rename":
            url = f"{customer_url}/api/customers/{customer_id}/update/"
            return url, {"name": f"Renamed {index}"}
        if choice == "delete":
            # Refused (and recorded) while the saga holds credit for open
            # orders, unless the client asks for them to be cancelled.
            open_orders = self.rng.choice(["refuse", "cancel"])
            url = f"{customer_url}/api/customers/{customer_id}/delete/"
            return url, {"open_orders": open_orders}
        quantity = self.rng.randint(1, 3)
        return f"{self.client.order_url}/api/orders/place/", {
            "customer_id": customer_id,
            "lines": [{"sku": "REL-1", "quantity": quantity, "unit_price": "9.50"}],
        }

    def _remember(self, choice: str, url: str, response: requests.Response) -> None:
        if choice == "register" and response.status_code == 201:
            body = response.json()
            self.customers[body["id"]] = body["version"]
        elif choice == "delete" and response.status_code == 204:
            self.customers.pop(url.rstrip("/").split("/")[-2], None)
        elif choice == "place" and response.status_code == 201:
            self.orders.append(response.json()["id"])


def label_of(run: PlatformRun) -> str:
    """``cqrs_es``, or ``cqrs_es+kinesis+dynamodb`` off the default backends."""
    delivery = run.env.get("EVENT_DELIVERY", "sns")
    store = run.env.get("EVENT_STORE", "postgres")
    if (delivery, store) == ("sns", "postgres"):
        return run.approach
    return f"{run.approach}+{delivery}+{store}"


def reset_round(run: PlatformRun) -> None:
    """Empty every table, queue and DynamoDB event table before a round."""
    run.reset_data()
    empty_event_tables(run)


def tap_for(run: PlatformRun, rng: random.Random) -> faults.Tap | streams.KinesisTap:
    """A tap on the topics, or on the streams under ``EVENT_DELIVERY=kinesis``."""
    if streams.uses_kinesis(run):
        return streams.KinesisTap(run, rng)
    return faults.Tap(run, rng)


def run_round(
    run: PlatformRun, seed: int, *, server: EmbeddedPostgres | None = None
) -> RoundResult:
    """Reset the data, run one seeded round, wait for quiescence, check.

    With ``server`` (the platform's own PostgreSQL) the round restarts it too.
    """
    rng = random.Random(seed)
    label = label_of(run)
    result = RoundResult(approach=label, seed=seed)
    print(f"\n[{label}] round seed={seed}", flush=True)
    reset_round(run)
    before = dict(run.restarts)
    tap = tap_for(run, rng)
    try:
        workload = Workload(client_for(run), rng)
        commands = rng.randint(20, 30)
        schedule = _fault_schedule(
            rng,
            commands,
            restart_postgres=server is not None,
            available=faults_of(run),
        )
        background: list[threading.Thread] = []
        for index in range(commands):
            for fault in schedule.get(index, []):
                result.faults.append(fault)
                thread = _inject(run, tap, rng, fault, server=server, result=result)
                if thread is not None:
                    background.append(thread)
            workload.step(index)
            if rng.random() < 0.2:
                time.sleep(rng.uniform(0.05, 0.4))
            tap.drain()
        for thread in background:
            thread.join()
        # The platform comes back by itself: both services answer again, and
        # a few more commands go through the relays and consumers.
        result.recovered_after = faults.wait_until_healthy(run, timeout=30)
        for index in range(commands, commands + 3):
            workload.step(index)
        # The last deliveries twice and out of order, once the flow settles.
        time.sleep(1.0)
        tap.redeliver(share=0.5)
        result.faults.append("redeliver-final")
        result.quiet, result.left, result.waited = faults.wait_for_quiescence(
            run, tap, timeout=QUIESCENCE_TIMEOUT, hangs=result.relay_hangs
        )
        tap.drain()
        result.commands = workload.counts
        result.timeouts = workload.timeouts
        result.slowest_answer = workload.slowest
        result.verdict = judge(run, workload.history)
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
    failed = {key: n for key, n in result.commands.items() if ":2" not in key}
    if failed:
        print(f"    answers other than 2xx: {failed}", flush=True)
    for problem in (result.fault_errors + _problems(result.verdict))[:10]:
        print(f"    {problem}", flush=True)
    return result


FAULTS = ["kill-relay", "kill-consumer", "broker-outage", "redeliver"]


def faults_of(run: PlatformRun) -> list[str]:
    """The faults that apply to this platform's processes and backends."""
    available = [
        fault
        for fault, applies in (
            ("kill-relay", bool(faults.relays(run))),
            ("kill-consumer", bool(faults.consumers(run))),
            # SIGKILL of the event source mapping runner while records flow:
            # it resumes from its checkpoints (a batch in hand comes again).
            ("kill-functions", bool(faults.functions(run))),
            ("broker-outage", True),
            ("redeliver", True),
            ("poison", streams.uses_kinesis(run)),
        )
        if applies
    ]
    return available


def _fault_schedule(
    rng: random.Random,
    commands: int,
    *,
    restart_postgres: bool,
    available: list[str] = FAULTS,
) -> dict[int, list[str]]:
    """Each fault once or twice, at random points of the command stream; the
    PostgreSQL restart once, early enough for commands to meet the outage."""
    schedule: dict[int, list[str]] = {}
    for fault in available:
        for _ in range(rng.randint(1, 2)):
            schedule.setdefault(rng.randrange(3, commands), []).append(fault)
    if restart_postgres:
        index = rng.randrange(3, commands - 5)
        schedule.setdefault(index, []).append("restart-postgres")
    return schedule


def _in_background(
    result: RoundResult, target: Callable[..., None], *args
) -> threading.Thread:
    """Run a fault beside the commands; a fault that fails fails the round."""

    def inject() -> None:
        try:
            target(*args)
        except Exception as error:  # noqa: BLE001 (reported by the round)
            result.fault_errors.append(f"{target.__name__} failed: {error}")

    thread = threading.Thread(target=inject, daemon=True)
    thread.start()
    return thread


def _inject(
    run: PlatformRun,
    tap: faults.Tap | streams.KinesisTap,
    rng: random.Random,
    fault: str,
    *,
    server: EmbeddedPostgres | None,
    result: RoundResult,
) -> threading.Thread | None:
    if fault == "kill-relay":
        faults.sigkill(run, rng.choice(faults.relays(run)))
    elif fault == "kill-consumer":
        faults.sigkill(run, rng.choice(faults.consumers(run)))
    elif fault == "kill-functions":
        faults.sigkill(run, rng.choice(faults.functions(run)))
    elif fault == "poison":
        streams.put_poison(
            run,
            kind=rng.choice(streams.POISON_KINDS),
            producer=rng.choice(["customer", "order"]),
        )
    elif fault == "redeliver":
        tap.redeliver(share=rng.uniform(0.2, 0.6))
    elif fault == "broker-outage":
        return _in_background(result, faults.broker_outage, run, rng.uniform(2, 4))
    elif fault == "restart-postgres":
        seconds = rng.uniform(1.5, 3.0)
        return _in_background(result, faults.restart_postgres, server, seconds)
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
    indeterminate: int = 0
    indeterminate_committed: int = 0
    not_applied: int = 0
    postgres_restarts: int = 0
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
        self.indeterminate += verdict.indeterminate
        self.indeterminate_committed += verdict.indeterminate_committed
        self.not_applied += verdict.not_applied
        self.postgres_restarts += result.faults.count("restart-postgres")
        self.not_quiescent += 0 if result.quiet else 1
        self.restarts += sum(result.restarts.values())
        self.relay_hangs += len(result.relay_hangs)

    def line(self, label: str) -> str:
        return (
            f"TOTALS {label}: rounds {self.rounds}, events {self.events}, "
            f"applications {self.applied}, lost {self.lost}, duplicated effects "
            f"{self.duplicated_effects}, unexpected {self.unexpected}, out-of-order "
            f"{self.out_of_order}, effect drift {self.effect_drift}, wire duplicates "
            f"{self.wire_duplicates}, indeterminate commands {self.indeterminate} "
            f"(committed {self.indeterminate_committed}), throttled commands "
            f"{self.not_applied}, PostgreSQL restarts "
            f"{self.postgres_restarts}, not quiescent {self.not_quiescent}, worker "
            f"restarts {self.restarts}, hung relays restarted {self.relay_hangs}"
        )


TOTALS: dict[str, Totals] = {}


def run_rounds(
    run: PlatformRun, *, server: EmbeddedPostgres | None = None
) -> list[RoundResult]:
    seed = base_seed()
    results = []
    label = label_of(run)
    totals = TOTALS.setdefault(label, Totals())
    for number in range(rounds_wanted()):
        result = run_round(run, seed + number, server=server)
        totals.add(result)
        results.append(result)
    print(totals.line(label), flush=True)
    return results

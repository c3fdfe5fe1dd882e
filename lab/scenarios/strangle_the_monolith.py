"""Strangle the monolith: the running platform moves 1 -> 2 -> 4 -> 5 with its data.

The paper's title is a journey, and this scenario makes it while clients
keep sending commands (during each move; paused while the lab audits the
platform between moves). It starts on the monolith (``shared_db``) with
customers and orders, and moves one step at a time with ``manage.py approach
migrate`` (``strangler``): the database split (``db_per_service``), the
events introduced (``event_sourcing``: every customer and order gets an
opening event), the read side added (``cqrs_es``). After each move the
platform's processes restart on the new approach, as a learner's would
(``PlatformRun.switch_approach``). Between the first two moves a customer
with open orders is deleted, so the second move meets the orphans
``db_per_service`` leaves and closes them by its stated policy.

Measured per step, from the clients' answers and the stores: the seconds it
took, the requests accepted, refused with 503 (the cut-over window: writes
are frozen until the services restart) and failed otherwise, the longest
stretch of refused writes, and whether the auditor found every copy equal
once the platform was quiet. At the end, under ``cqrs_es``: every customer
and order a client was told was created, in every store of approach 5
(lost), and no aggregate opened twice (duplicated).

It starts from the monolith only: under any other approach it is skipped.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import requests

from lab.context import ScenarioContext, wait_for
from lab.measurements import Measurements
from lab.scenarios.base import Scenario
from observe.audit import AuditDatabases, audit_consistency
from observe.quiescence import BacklogProbe
from observe.tables import (
    CUSTOMER_TABLE,
    EVENT_STORE_TABLE,
    ORDER_TABLE,
    ORDER_VIEW_TABLE,
    SUMMARY_TABLE,
)
from shared_events.configuration import REPO_DIR
from shared_events.transport import DeadLetterQueue, platform_topology
from stack.connections import fetch_rows
from stack.local_aws import local_client

START = "shared_db"
# The paper's path, skipping the dual write (3): the move from 2 goes
# straight to the events.
STEPS = ("db_per_service", "event_sourcing", "cqrs_es")
CUSTOMERS = 4
ORDERS_EACH = 2
# A move and the restart that follows must end within this.
STEP_TIMEOUT_SECONDS = 300
# After each step, with the clients paused: how long the events still on
# their way are given to arrive, then the auditor to find every copy equal.
QUIET_SECONDS = 60.0
AUDIT_SECONDS = 30.0
# At the end, before anything is called lost: what the last move's clients
# sent may still be on its way to the read side (a busy machine's projectors
# lag by minutes). Missing while the platform is not quiet is "not yet
# applied", never "lost".
END_QUIET_SECONDS = 180.0
# About four commands a second (a registration and an order each round):
# well under what the platform sustains on two cores under cqrs_es
# (docs/benchmarks.md, figure 11), so the read side keeps up.
PAUSE_BETWEEN_COMMANDS = 0.4

# The figures, per step (a group each) and in the end.
SECONDS = "seconds"
ACCEPTED = "accepted"
REFUSED = "refused (503)"
FAILED = "failed otherwise"
LONGEST_REFUSED = "longest refused s"
AUDIT = "audit consistent"
END = "in the end"
LOST = "lost"
DUPLICATED = "duplicated"
NOT_YET_APPLIED = "not yet applied"
DEAD_LETTERED = "dead-lettered"
ORPHANS_CLOSED = "orphans closed"
MIGRATED = "steps migrated"


class StrangleTheMonolith(Scenario):
    name = "strangle-the-monolith"
    moves_platform = True
    title = (
        "clients keep sending commands while the monolith moves to services, "
        "events and read models, with its data, one step at a time"
    )

    def skip_reason(self, backend) -> str | None:
        if backend.approach == START:
            return None
        return (
            "the migration starts from the monolith: it runs on a shared_db "
            "platform and moves it along the path itself"
        )

    def run(self, ctx: ScenarioContext) -> None:
        for number in range(CUSTOMERS):
            customer = ctx.register(f"Monolith Customer {number}")
            for _ in range(ORDERS_EACH):
                ctx.place_order(customer["id"])
        traffic = Traffic(ctx, steady_customer=ctx.customers[0])
        home = Path(tempfile.mkdtemp(prefix="lab-strangler-"))
        ctx.cleanups.append(lambda: shutil.rmtree(home, ignore_errors=True))
        migrated = 0
        try:
            for target in STEPS:
                if not self._step(ctx, traffic, home, target):
                    break
                migrated += 1
                if target == "db_per_service":
                    # The customer leaves; their orders stay behind (orphans),
                    # for the next move's policy to close.
                    leaving = ctx.customers[-1]
                    ctx.delete(leaving)
        finally:
            traffic.stop()
        ctx.figures[END] = {MIGRATED: migrated}
        if migrated == len(STEPS):
            ctx.figures[END].update(self._end_figures(ctx, traffic))

    def _step(
        self, ctx: ScenarioContext, traffic: Traffic, home: Path, target: str
    ) -> bool:
        started = time.monotonic()
        ctx.progress(
            f"  moving to {target} (manage.py approach migrate) while clients write..."
        )
        traffic.begin(target)
        moved = subprocess.run(
            [sys.executable, "manage.py", "approach", "migrate", "--to", target],
            cwd=REPO_DIR,
            env=migrate_environment(ctx.run.env, home, ctx.approach),
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_SECONDS,
        )
        if moved.returncode != 0:
            ctx.notes.append(
                f"--to {target} failed (exit {moved.returncode}): "
                + (moved.stderr.strip().splitlines() or ["no output"])[-1]
            )
            traffic.end()
            return False
        ctx.progress(f"  moved; the processes restarting on {target}...")
        ctx.run.switch_approach(target)
        answers = traffic.end()
        seconds = time.monotonic() - started
        if ctx.run.uses_events:
            # What the clients sent last is still on its way to the other
            # service and the read side: audited once it arrived.
            BacklogProbe(ctx.run).wait_until_quiet(timeout=QUIET_SECONDS)
        consistent = wait_for(
            lambda: (
                audit_consistency(
                    ctx.approach, AuditDatabases.of_platform(ctx.run)
                ).consistent
            ),
            timeout=AUDIT_SECONDS,
        )
        ctx.figures[target] = {
            SECONDS: round(seconds, 1),
            ACCEPTED: answers.accepted,
            REFUSED: answers.refused,
            FAILED: answers.failed,
            LONGEST_REFUSED: round(answers.longest_refused, 2),
            AUDIT: int(consistent is not None),
        }
        window = [
            line for line in moved.stdout.splitlines() if "Cut-over window" in line
        ]
        ctx.notes.append(f"--to {target}: " + (window[0].strip() if window else "done"))
        ctx.progress(
            f"  on {target} after {seconds:.0f}s: {answers.accepted} writes "
            f"accepted, {answers.refused} refused (503), {answers.failed} failed "
            "otherwise; audit " + ("equal" if consistent is not None else "apart")
        )
        return True

    @staticmethod
    def _end_figures(ctx: ScenarioContext, traffic: Traffic) -> dict[str, int]:
        """Under cqrs_es, once quiet: what a client was told was created and
        is missing from a store of approach 5 (lost; not yet applied while
        the platform is not quiet), aggregates opened more than once, and
        messages set aside in a dead-letter queue."""
        ctx.progress("  waiting for the read side to apply what the clients sent...")
        quiet = BacklogProbe(ctx.run).wait_until_quiet(timeout=END_QUIET_SECONDS)
        deleted = set(ctx.deleted_customers)
        customers = (set(ctx.customers) | traffic.created["customer"]) - deleted
        orders = set(ctx.orders) | traffic.created["order"]
        stores = {
            "customer": [
                (ctx.run.database_url("customer"), CUSTOMER_TABLE, "id"),
                (ctx.run.read_database_url("customer"), SUMMARY_TABLE, "customer_id"),
            ],
            "order": [
                (ctx.run.database_url("order"), ORDER_TABLE, "id"),
                (ctx.run.read_database_url("order"), ORDER_VIEW_TABLE, "order_id"),
            ],
        }
        wanted = {"customer": customers, "order": orders}
        lost = set()
        for kind, places in stores.items():
            for url, table, column in places:
                present = {
                    key
                    for (key,) in fetch_rows(url, f"SELECT {column}::text FROM {table}")
                }
                lost |= wanted[kind] - present
        duplicated = 0
        for service, openings in (
            ("customer", "('CustomerRegistered', 'CustomerImported')"),
            ("order", "('OrderPlaced', 'OrderImported', 'OrderRejected')"),
        ):
            duplicated += len(
                fetch_rows(
                    ctx.run.database_url(service),
                    f"SELECT aggregate_id FROM {EVENT_STORE_TABLE} "
                    f"WHERE event_type IN {openings} "
                    "GROUP BY aggregate_id HAVING count(*) > 1",
                )
            )
        closed = fetch_rows(
            ctx.run.database_url("order"),
            f"SELECT count(*) FROM {EVENT_STORE_TABLE} WHERE event_type = "
            "'OrderCancelled' AND payload->>'reason' = 'customer_missing_at_import'",
        )[0][0]
        missing = LOST if quiet.quiet else NOT_YET_APPLIED
        if not quiet.quiet:
            ctx.notes.append(
                f"not quiet {END_QUIET_SECONDS:.0f} s after the last move "
                f"({quiet.left} left): {len(lost)} records not yet applied "
                "are not counted as lost"
            )
        return {
            missing: len(lost),
            DUPLICATED: duplicated,
            ORPHANS_CLOSED: closed,
            DEAD_LETTERED: _dead_lettered(ctx),
        }

    def lesson(self, approach: str, measured: Measurements) -> str:
        end = measured.figures.get(END, {})
        if end.get(MIGRATED, 0) < len(STEPS):
            return (
                f"the move stopped after {end.get(MIGRATED, 0)} of {len(STEPS)} "
                "steps: see the notes for the step that refused"
            )
        refused = sum(measured.figures.get(s, {}).get(REFUSED, 0) for s in STEPS)
        failed = sum(measured.figures.get(s, {}).get(FAILED, 0) for s in STEPS)
        longest = max(
            measured.figures.get(s, {}).get(LONGEST_REFUSED, 0) for s in STEPS
        )
        audited = all(measured.figures.get(s, {}).get(AUDIT) for s in STEPS)
        lost = (
            f"{end[LOST]} lost"
            if LOST in end
            else f"{end.get(NOT_YET_APPLIED)} not yet applied when measured (the "
            "platform was not quiet: none counted as lost)"
        )
        return (
            f"the monolith became services, events and read models while clients "
            f"kept writing: {lost}, {end.get(DUPLICATED)} doubled, "
            f"{end.get(ORPHANS_CLOSED)} orphan orders closed by the stated policy; "
            f"{refused} writes refused with 503 in the cut-over windows (the "
            f"longest {longest:.1f} s, until the services restarted) and {failed} "
            "failed otherwise (while they restarted); "
            + ("every step audited equal" if audited else "an audit found copies apart")
        )


class Traffic:
    """Clients registering customers and placing orders, one after the other,
    from the first step to the last: each answer kept with its time and the
    step it fell in."""

    def __init__(self, ctx: ScenarioContext, *, steady_customer: str) -> None:
        self.ctx = ctx
        self.steady_customer = steady_customer
        self.created: dict[str, set[str]] = {"customer": set(), "order": set()}
        self.answers: list[tuple[float, str]] = []
        self.step = ""
        self._since = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._numbers = itertools.count(1)

    def begin(self, step: str) -> None:
        """Start sending, the answers counted for ``step``."""
        self.step, self._since = step, len(self.answers)
        self._stop.clear()
        self._thread = threading.Thread(target=self._keep_busy, daemon=True)
        self._thread.start()

    def end(self) -> StepAnswers:
        """Stop sending (while the step is audited); the step's answers."""
        self.stop()
        with self._lock:
            return StepAnswers(self.answers[self._since :])

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _keep_busy(self) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {self.ctx.run.token}"
        while not self._stop.is_set():
            # Numbered across the steps: every registration a new email.
            number = next(self._numbers)
            self._post(
                session,
                "customer",
                "/api/customers/register/",
                {
                    "name": f"Live Customer {number}",
                    "email": f"live{number}@example.com",
                    "address": f"{number} Strangler Fig Road",
                },
            )
            self._post(
                session,
                "order",
                "/api/orders/place/",
                {
                    "customer_id": self.steady_customer,
                    "lines": [
                        {"sku": "FIG-1", "quantity": 1, "unit_price": str(Decimal(2))}
                    ],
                },
            )
            self._stop.wait(PAUSE_BETWEEN_COMMANDS)

    def _post(self, session, service: str, path: str, body: dict) -> None:
        try:
            response = session.post(
                f"{self.ctx.run.url(service)}{path}", json=body, timeout=10
            )
            status = str(response.status_code)
        except requests.RequestException:
            response, status = None, "connection error"
        with self._lock:
            self.answers.append((time.monotonic(), status))
            if response is not None and response.status_code == 201:
                self.created[service].add(response.json()["id"])
                self.ctx.commands_ok += 1
            elif status != "503":
                self.ctx.client.failures[status] += 1


class StepAnswers:
    """What the clients were answered during one step."""

    def __init__(self, answers: list[tuple[float, str]]) -> None:
        statuses = Counter(status for _, status in answers)
        self.accepted = statuses["201"]
        self.refused = statuses["503"]
        self.failed = sum(statuses.values()) - self.accepted - self.refused
        self.longest_refused = _longest_run(answers, "503")


def _longest_run(answers: list[tuple[float, str]], status: str) -> float:
    """The longest stretch of seconds in which every answer was ``status``:
    from the first such answer to the last before another came."""
    longest, first, last = 0.0, None, None
    for at, answered in answers:
        if answered == status:
            first = at if first is None else first
            last = at
            longest = max(longest, last - first)
        else:
            first = last = None
    return longest


def _dead_lettered(ctx: ScenarioContext) -> int:
    """Messages in the platform's dead-letter queues: set aside after too
    many failed tries, not applied (and not lost: they can be sent again).
    Their reasons, counted per queue, go into the notes."""
    topology = platform_topology(
        prefix=ctx.run.env.get("EVENT_TOPOLOGY_PREFIX", ""), read_side=True
    )
    sqs = local_client("sqs", ctx.run.moto.endpoint_url)
    count = 0
    for consumer in topology.consumers:
        url = sqs.get_queue_url(QueueName=topology.dead_letter_queue_name(consumer))
        waiting = int(
            sqs.get_queue_attributes(
                QueueUrl=url["QueueUrl"],
                AttributeNames=["ApproximateNumberOfMessages"],
            )["Attributes"]["ApproximateNumberOfMessages"]
        )
        count += waiting
        if waiting:
            letters = DeadLetterQueue(
                sqs=sqs, queue_url=url["QueueUrl"], inbox_url=None
            ).hold_all(limit=waiting)
            reasons = Counter(_reason_kind(letter.failure_reason) for letter in letters)
            ctx.notes.append(
                f"dead-lettered for {consumer}: "
                + "; ".join(f"{n} x {reason}" for reason, n in reasons.most_common())
            )
    return count


def _reason_kind(reason: str | None) -> str:
    """A dead letter's reason without its ids and numbers: what kind it is."""
    if not reason:
        return "no reason given (moved by the queue's redrive policy)"
    kind = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", reason)
    return re.sub(r"\d+", "<n>", kind)


def migrate_environment(run_env: dict, home: Path, approach: str) -> dict[str, str]:
    """``approach migrate``'s environment: the running platform's databases
    and broker (``run_env``), a settings file of its own recording the
    approach the platform is on, and a state directory of its own, under
    ``home``."""
    dotenv = home / "platform.env"
    dotenv.write_text(f"ARCHITECTURE_APPROACH={approach}\n")
    env = {**os.environ, **run_env}
    env.pop("ARCHITECTURE_APPROACH", None)
    env.update(
        PLATFORM_DOTENV=str(dotenv),
        PLATFORM_VAR_DIR=str(home / "var"),
        OTEL_SDK_DISABLED="true",
    )
    return env

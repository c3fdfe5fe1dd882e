"""The whole path, shared_db to cqrs_es, on one running platform under traffic.

The acceptance test of the strangler fig (issue 20): a monolith with
customers and orders is moved, step after step, through the real command
(``approach migrate``) while a client keeps registering customers and
placing orders, and the services restart on each new approach with the
processes it needs. The tests run in order on that one platform:

1. shared_db -> db_per_service, then a customer leaves under db_per_service
   and leaves its open orders behind (orphans);
2. db_per_service -> event_sourcing, the services restarted with their
   relays and consumers, and the credit saga approving a new order for an
   imported customer (its credit came from ``CustomerImported``);
3. event_sourcing -> cqrs_es: the dry run, a refusal, a move killed with
   SIGKILL in the middle of its rebuild and the rerun that finishes it, the
   services restarted with their projectors, the query API answering;
4. what the learner is promised: every customer and order the monolith had
   is in every store of approach 5, once; the auditor finds nothing wrong;
   no request failed but the 503s of the cut-over windows.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from lab.client import PlatformClient
from observe.audit import AuditDatabases, audit_until_settled
from shared_events.configuration import (
    REPO_DIR,
    SERVICES,
    all_database_names,
)
from stack import postgres
from stack.connections import fetch_rows, fetch_value, open_connection
from stack.platform_run import PlatformRun, running_platform
from strangler.read_side import READ_CONSUMERS
from tests.strangler_support import client_of, ids, migrate, recorded_approach

pytestmark = pytest.mark.slow

CUSTOMERS = 6
PAUSE_BETWEEN_ROUNDS = 0.4
ORPHAN_REASON = "customer_missing_at_import"
# The steps with a cut-over window: writes are refused (503) from the freeze
# until the services restart on the new approach.
WINDOWS = {"db_per_service", "event_sourcing"}


@dataclass
class Journey:
    """The platform on its way, and what its client saw on the way."""

    run: PlatformRun
    prefix: str
    home: Path
    customers: list[str] = field(default_factory=list)
    # Each step's answers to the steady traffic: status -> count.
    answers: dict[str, Counter] = field(default_factory=dict)
    # Every 5xx but a 503, and every connection error: (step, what).
    failures: list[tuple[str, str]] = field(default_factory=list)
    # Customers and orders the platform accepted (201) during the steps.
    accepted: dict[str, set[str]] = field(
        default_factory=lambda: {"customer": set(), "order": set()}
    )
    monolith: dict[str, set[str]] = field(default_factory=dict)
    numbers: Iterator[int] = field(default_factory=itertools.count)

    @property
    def steady(self) -> str:
        """The customer the traffic places its orders for."""
        return self.customers[0]

    @property
    def leaving(self) -> str:
        """The customer deleted under db_per_service, its orders left behind."""
        return self.customers[-1]

    def url(self, name: str) -> str:
        server = self.run.env["DATABASE_SERVER_URL"].rstrip("/")
        return f"{server}/{self.prefix}{name}"

    def client(self) -> PlatformClient:
        return client_of(self.run)

    def command_env(self) -> dict[str, str]:
        """The command's environment: the run's databases and broker, its own
        settings file (where the approach is recorded) and state directory."""
        env = {**os.environ, **self.run.env}
        env.pop("ARCHITECTURE_APPROACH")
        env.update(
            PLATFORM_DOTENV=str(self.home / "platform.env"),
            PLATFORM_VAR_DIR=str(self.home / "var"),
            OTEL_SDK_DISABLED="true",
        )
        return env


@pytest.fixture(scope="module")
def journey(server_url, tmp_path_factory):
    """A shared_db platform (databases sp<pid>_*, dropped at the end) with
    customers and orders placed through its APIs."""
    prefix = f"{os.environ.get('TEST_DATABASE_PREFIX', '')}sp{os.getpid()}_"
    home = tmp_path_factory.mktemp("strangler_path")
    (home / "platform.env").write_text("ARCHITECTURE_APPROACH=shared_db\n")
    try:
        with running_platform(
            approach="shared_db", server_url=server_url, prefix=prefix
        ) as run:
            started = Journey(run=run, prefix=prefix, home=home)
            client = started.client()
            for number in range(CUSTOMERS):
                customer = client.register_customer(
                    name=f"Customer {number}",
                    email=f"customer{number}@example.com",
                    address=f"{number} Fig Street",
                )
                started.customers.append(customer["id"])
                for line in (("fig", 2, Decimal("1.50")), ("tree", 1, Decimal("9"))):
                    placed = client.place_order(
                        customer_id=customer["id"], lines=[line]
                    )
                    assert placed.status_code == 201, placed.text
            yield started
    finally:
        postgres.drop_databases(server_url=server_url, names=all_database_names(prefix))


def _migrate(
    journey: Journey, *args: str, **settings: str
) -> subprocess.CompletedProcess:
    return migrate({**journey.command_env(), **settings}, *args, timeout=600)


def _approach(journey: Journey) -> str:
    return recorded_approach(journey.command_env())


def _ids(url: str, table: str, column: str = "id", where: str = "") -> set[str]:
    return set(ids(url, table, column, where))


def _applied_by(journey: Journey, reader: str) -> set[str]:
    """The events a service's read side recorded as applied (the rebuild and
    the live projector alike: one name)."""
    return _ids(
        journey.url(f"{reader}_read"),
        "event_processed",
        "event_id",
        where=f"WHERE consumer = '{READ_CONSUMERS[reader]}'",
    )


@contextmanager
def _traffic(journey: Journey, step: str) -> Iterator[Counter]:
    """Until the block ends: register a customer, place an order for the
    steady customer, again and again; every answer counted under ``step``."""
    statuses = journey.answers.setdefault(step, Counter())
    stop = threading.Event()
    session = journey.client().session
    customers, orders = journey.run.url("customer"), journey.run.url("order")

    def post(url: str, body: dict, accepted: set[str]) -> None:
        try:
            response = session.post(url, json=body, timeout=10)
        except requests.RequestException as error:
            statuses["connection error"] += 1
            journey.failures.append((step, repr(error)))
            return
        statuses[response.status_code] += 1
        if response.status_code == 201:
            accepted.add(response.json()["id"])
        elif response.status_code >= 500 and response.status_code != 503:
            journey.failures.append((step, f"{response.status_code} {response.text}"))

    def keep_busy() -> None:
        while not stop.is_set():
            number = next(journey.numbers)
            post(
                f"{customers}/api/customers/register/",
                {
                    "name": f"Live {number}",
                    "email": f"live{number}@example.com",
                    "address": "2 Busy Road",
                },
                journey.accepted["customer"],
            )
            post(
                f"{orders}/api/orders/place/",
                {
                    "customer_id": journey.steady,
                    "lines": [{"sku": "fig", "quantity": 1, "unit_price": "1.00"}],
                },
                journey.accepted["order"],
            )
            # About four commands a second: under the platform's knee on two
            # cores (docs/benchmarks.md, figure 11), so the read side keeps
            # up and the final audit measures the migration, not a backlog.
            stop.wait(PAUSE_BETWEEN_ROUNDS)

    thread = threading.Thread(target=keep_busy, daemon=True)
    thread.start()
    try:
        yield statuses
    finally:
        stop.set()
        thread.join(timeout=30)


def _restart(journey: Journey, approach: str) -> None:
    """The services restarted on ``approach`` with every worker it runs, as
    ``make up`` would: relays and consumers, then projectors too."""
    journey.run.switch_approach(approach)


def _order_status(journey: Journey, order_id: str) -> str:
    shown = journey.client().session.get(
        f"{journey.run.url('order')}/api/orders/{order_id}/", timeout=10
    )
    assert shown.status_code == 200, shown.text
    return shown.json()["status"]


# --- 1 -> 2 -----------------------------------------------------------------------


def test_the_monolith_is_split_while_it_serves(journey):
    with _traffic(journey, "db_per_service"):
        completed = _migrate(journey, "--to", "db_per_service")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert _approach(journey) == "db_per_service"
    # The shared database is frozen now: what it holds is all the monolith had.
    shared = journey.url("platform_shared")
    journey.monolith = {
        "customer": _ids(shared, "customers_customer"),
        "order": _ids(shared, "orders_order"),
    }
    assert journey.accepted["customer"] <= journey.monolith["customer"]
    assert journey.accepted["order"] <= journey.monolith["order"]
    _restart(journey, "db_per_service")

    # Under db_per_service a customer leaves and its open orders stay: orphans.
    journey.client().delete_customer(journey.leaving)
    orphans = _ids(
        journey.url("order_service"),
        "orders_order",
        where=f"WHERE customer_id = '{journey.leaving}' "
        "AND status IN ('pending', 'approved')",
    )
    assert len(orphans) == 2


# --- 2 -> 4 -----------------------------------------------------------------------


def test_events_are_introduced_while_it_serves(journey):
    with _traffic(journey, "event_sourcing"):
        completed = _migrate(journey, "--to", "event_sourcing")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert _approach(journey) == "event_sourcing"
    assert "Orphan orders (open, customer gone): 2" in completed.stdout
    _restart(journey, "event_sourcing")


def test_the_credit_saga_approves_an_order_of_an_imported_customer(journey):
    customer = journey.customers[1]
    customers_url = journey.url("customer_service")
    (imported,) = fetch_rows(
        customers_url,
        "SELECT payload FROM event_store WHERE aggregate_id = %s "
        "AND event_type = 'CustomerImported'",
        [customer],
    )
    placed = journey.client().place_order(
        customer_id=customer, lines=[("fig", 1, Decimal("1"))]
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()["id"]
    deadline = time.monotonic() + 60
    while _order_status(journey, order) == "pending":
        assert time.monotonic() < deadline, "the saga never answered"
        time.sleep(0.5)
    assert _order_status(journey, order) == "approved"
    # The customer's side of the saga went on from its opening event: the
    # credit reserved is its next version, beside what the import held.
    reserved = fetch_value(
        customers_url,
        "SELECT aggregate_version FROM event_store WHERE aggregate_id = %s "
        "AND event_type = 'CreditReserved' AND payload ->> 'order_id' = %s",
        [customer, order],
    )
    assert reserved > 1
    assert len(imported[0]["reservations"]) == 2


# --- 4 -> 5 -----------------------------------------------------------------------


def test_the_dry_run_of_the_read_side_changes_nothing(journey):
    events = fetch_value(
        journey.url("order_service"), "SELECT count(*) FROM event_store"
    )
    completed = _migrate(journey, "--to", "cqrs_es", "--dry-run")
    assert completed.returncode == 0, completed.stderr
    # Nothing writes now (the saga above has answered): the counts are exact.
    assert (
        f"{journey.prefix}order_service event_store -> replayed into both read "
        f"sides: {events}" in completed.stdout
    )
    assert "[to do] rebuild" in completed.stdout
    assert "Dry run: nothing changed." in completed.stdout
    assert _approach(journey) == "event_sourcing"
    for name in ("customer_read", "order_read"):
        assert not fetch_value(
            journey.url(name),
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
        )


def test_backends_the_read_side_cannot_follow_are_refused(journey):
    for setting, value, reason in [
        ("EVENT_DELIVERY", "sqs", "EVENT_DELIVERY=sqs: this step subscribes"),
        ("EVENT_STORE", "dynamodb", "EVENT_STORE=dynamodb: the rebuild replays"),
    ]:
        completed = _migrate(journey, "--to", "cqrs_es", **{setting: value})
        assert completed.returncode != 0
        assert reason in completed.stderr
    assert _approach(journey) == "event_sourcing"


def test_a_read_database_holding_a_foreign_rebuild_is_refused(journey):
    url = journey.url("customer_read")
    with open_connection(url, autocommit=True) as connection:
        connection.cursor().execute("CREATE SCHEMA rebuild")
    try:
        completed = _migrate(journey, "--to", "cqrs_es")
    finally:
        with open_connection(url, autocommit=True) as connection:
            connection.cursor().execute("DROP SCHEMA rebuild")
    assert completed.returncode != 0
    assert "already holds a schema 'rebuild'" in completed.stderr
    assert _approach(journey) == "event_sourcing"


def test_a_move_killed_in_its_rebuild_is_finished_by_the_rerun(journey):
    process = subprocess.Popen(
        [sys.executable, "manage.py", "approach", "migrate", "--to", "cqrs_es"],
        cwd=REPO_DIR,
        env={**journey.command_env(), "STRANGLER_BATCH_ROWS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # The command and its child (the rebuild) in a group of their own:
        # the whole command is killed, as Ctrl-C or a stopped container would.
        start_new_session=True,
    )
    seen = []
    with _traffic(journey, "cqrs_es (killed)"):
        try:
            for line in process.stdout:
                seen.append(line)
                replayed = re.match(r"\s*(\d+) events replayed", line)
                if replayed and int(replayed.group(1)) >= 3:
                    os.killpg(process.pid, signal.SIGKILL)
                    break
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "".join(seen)
    customer_read = journey.url("customer_read")
    # Killed in the middle: the shadow schema holds how far the replay got,
    # the live read models nothing yet, and the platform is where it was.
    positions = dict(
        fetch_rows(customer_read, "SELECT source, position FROM rebuild.progress")
    )
    assert positions.get("customer", 0) + positions.get("order", 0) >= 3, positions
    assert not fetch_value(customer_read, "SELECT count(*) FROM read_customer_summary")
    assert _approach(journey) == "event_sourcing"

    with _traffic(journey, "cqrs_es"):
        completed = _migrate(journey, "--to", "cqrs_es")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "1/5 databases: done before, skipped" in completed.stdout
    assert "2/5 subscribe: done before, skipped" in completed.stdout
    assert "resuming the rebuild begun at" in completed.stdout
    assert "Cut-over window: none" in completed.stdout
    assert "applied by the order read side" in completed.stdout  # verified
    assert _approach(journey) == "cqrs_es"
    # The same result as a move never killed: every event the stores held
    # when the rebuild began, applied by each read side (the final audit
    # below compares every row).
    marks = fetch_value(
        customer_read,
        "SELECT detail -> 'high_water' FROM strangler_migration_stage "
        "WHERE step = 'event_sourcing->cqrs_es' AND stage = 'rebuild_started'",
    )
    for service in SERVICES:
        assert marks[service] > 0
        held = _ids(
            journey.url(f"{service}_service"),
            "event_store",
            "event_id",
            where=f"WHERE id <= {int(marks[service])}",
        )
        for reader in SERVICES:
            assert held <= _applied_by(journey, reader), (service, reader)


def test_the_services_on_cqrs_es_answer_queries(journey):
    _restart(journey, "cqrs_es")
    client = journey.client()
    customer = journey.customers[2]
    name = fetch_value(
        journey.url("customer_service"),
        "SELECT name FROM customers_customer WHERE id = %s",
        [customer],
    )
    summary = client.session.get(
        f"{journey.run.url('customer')}/api/query/customers/{customer}/", timeout=10
    )
    assert summary.status_code == 200, summary.text
    assert summary.json()["name"] == name
    order = sorted(journey.monolith["order"])[0]
    view = client.session.get(
        f"{journey.run.url('order')}/api/query/orders/{order}/", timeout=10
    )
    assert view.status_code == 200, view.text


# --- what the learner is promised ---------------------------------------------------


def test_every_store_of_approach_5_holds_what_the_monolith_had(journey):
    customers_url, orders_url = (
        journey.url("customer_service"),
        journey.url("order_service"),
    )
    customer_read, order_read = journey.url("customer_read"), journey.url("order_read")
    report = audit_until_settled(
        "cqrs_es",
        AuditDatabases(
            customer=customers_url,
            order=orders_url,
            customer_read=customer_read,
            order_read=order_read,
        ),
        wait_seconds=120,
    )
    assert report.consistent, json.dumps(report.to_dict(), default=str)
    assert report.orphan_orders == []

    customers = (journey.monolith["customer"] | journey.accepted["customer"]) - {
        journey.leaving
    }
    orders = journey.monolith["order"] | journey.accepted["order"]
    for url, table, column in [
        (customers_url, "customers_customer", "id"),
        (orders_url, "orders_customer_replica", "id"),
        (customer_read, "read_customer_summary", "customer_id"),
        (order_read, "read_order_view_customer", "customer_id"),
    ]:
        missing = customers - _ids(url, table, column)
        assert not missing, f"{table} misses customers {sorted(missing)[:5]}"
    for url, table, column in [
        (orders_url, "orders_order", "id"),
        (customer_read, "read_customer_summary_order", "order_id"),
        (order_read, "read_order_view", "order_id"),
    ]:
        missing = orders - _ids(url, table, column)
        assert not missing, f"{table} misses orders {sorted(missing)[:5]}"
    # In the event stores, once: the monolith's data as one opening event
    # each (none twice), what came later as its own events.
    for url, event_type, keys in [
        (
            customers_url,
            "CustomerImported",
            journey.monolith["customer"] - {journey.leaving},
        ),
        (orders_url, "OrderImported", journey.monolith["order"]),
    ]:
        opened = Counter(
            dict(
                fetch_rows(
                    url,
                    "SELECT aggregate_id::text, count(*) FROM event_store "
                    "WHERE event_type = %s GROUP BY 1",
                    [event_type],
                )
            )
        )
        assert set(opened.values()) == {1}, event_type
        assert keys <= set(opened), event_type
    assert journey.leaving not in _ids(customers_url, "customers_customer")
    # Every event the stores hold, the ones written while the read side was
    # built and after included, applied by each read side: none set aside.
    for service in SERVICES:
        stored = _ids(journey.url(f"{service}_service"), "event_store", "event_id")
        for reader in SERVICES:
            missing = stored - _applied_by(journey, reader)
            assert not missing, f"{reader} read side misses {len(missing)} events"
    # The orphans the customer left behind: cancelled by the stated policy,
    # and shown so on the read side.
    orphans = fetch_rows(
        order_read,
        "SELECT status, cancel_reason FROM read_order_view WHERE customer_id = %s",
        [journey.leaving],
    )
    assert orphans == [("cancelled", ORPHAN_REASON)] * 2


def test_no_request_failed_but_in_the_cut_over_windows(journey):
    assert journey.failures == []
    for step, statuses in journey.answers.items():
        assert statuses[201], f"nothing accepted during {step}: {statuses}"
        unexpected = set(statuses) - ({201, 503} if step in WINDOWS else {201})
        assert not unexpected, f"{step}: {statuses}"
    for step in WINDOWS:
        assert journey.answers[step][503], f"no write refused during {step}"


def test_a_rerun_does_nothing_and_drop_old_drops_the_guard(journey):
    events = fetch_value(
        journey.url("order_service"), "SELECT count(*) FROM event_store"
    )
    completed = _migrate(journey, "--to", "cqrs_es")
    assert completed.returncode == 0, completed.stderr
    assert "already on cqrs_es" in completed.stdout
    assert "nothing to do" in completed.stdout
    completed = _migrate(journey, "--to", "cqrs_es", "--drop-old", "--yes")
    assert completed.returncode == 0, completed.stderr
    assert "Nothing old to drop" in completed.stdout
    for service in SERVICES:
        url = journey.url(f"{service}_service")
        assert not fetch_value(url, "SELECT to_regclass('strangler_opening_event')")
        assert not fetch_value(
            url,
            "SELECT count(*) FROM pg_trigger "
            "WHERE tgname LIKE 'strangler_event_guard%'",
        )
    assert (
        fetch_value(journey.url("order_service"), "SELECT count(*) FROM event_store")
        >= events
    )

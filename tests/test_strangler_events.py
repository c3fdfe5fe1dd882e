"""``approach migrate --to event_sourcing``: a running db_per_service platform
given its history, through the real command, on a real PostgreSQL server.

The tests run in order on one platform whose data came through its APIs,
orphan orders included (a customer deleted under db_per_service leaves its
orders behind): refusals and the dry run first, then a move killed in the
middle of its snapshots while customers keep changing, the rerun that
finishes it, the services serving the same data on event_sourcing, and a
rerun that does nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest

from lab.scenarios.strangle_the_monolith import migrate_environment
from observe.audit import AuditDatabases, audit_consistency
from shared_events.configuration import REPO_DIR, all_database_names
from stack import postgres
from stack.connections import fetch_rows, fetch_value, open_connection
from stack.moto_server import start_moto_server
from stack.platform_run import running_platform
from tests.strangler_support import (
    client_of,
    ids,
    migrate,
    recorded_approach,
)

pytestmark = pytest.mark.slow

CUSTOMERS = 6
ORPHAN_REASON = "customer_missing_at_import"


@pytest.fixture(scope="module")
def database_prefix(server_url):
    """This module's own databases (se<pid>_...), dropped at the end."""
    prefix = f"{os.environ.get('TEST_DATABASE_PREFIX', '')}se{os.getpid()}_"
    yield prefix
    postgres.drop_databases(server_url=server_url, names=all_database_names(prefix))


@pytest.fixture(scope="module")
def run(server_url, database_prefix):
    """A db_per_service platform with customers and orders placed through its
    APIs, and one customer deleted with open orders: their orphans."""
    with running_platform(
        approach="db_per_service", server_url=server_url, prefix=database_prefix
    ) as started:
        # The run's own local AWS (stopped with the run) for what starts under
        # event_sourcing after the move, the services and the command's
        # reruns: else they would start, and leave running, the learner's
        # moto daemon (stack.environment.ensure_aws_endpoint).
        started.moto = start_moto_server()
        started.env["AWS_ENDPOINT_URL"] = started.moto.endpoint_url
        client = client_of(started)
        customers = []
        for number in range(CUSTOMERS):
            customer = client.register_customer(
                name=f"Customer {number}",
                email=f"customer{number}@example.com",
                address=f"{number} Fig Street",
            )
            customers.append(customer["id"])
            for lines in ([("fig", 2, Decimal("1.50"))], [("tree", 1, Decimal("9"))]):
                if number % 2:
                    lines = [*lines, ("pot", 3, Decimal("4.25"))]
                placed = client.place_order(customer_id=customer["id"], lines=lines)
                assert placed.status_code == 201, placed.text
        client.delete_customer(customers[-1])
        started.deleted_customer = customers[-1]
        yield started


@pytest.fixture(scope="module")
def command_env(run, tmp_path_factory):
    return migrate_environment(
        run.env, tmp_path_factory.mktemp("strangler_events"), "db_per_service"
    )


def _url(run, service: str) -> str:
    server, prefix = run.env["DATABASE_SERVER_URL"], run.env["DATABASE_NAME_PREFIX"]
    return f"{server.rstrip('/')}/{prefix}{service}_service"


def _orphans(run) -> list[str]:
    return sorted(
        ids(
            _url(run, "order"),
            "orders_order",
            where=f"WHERE customer_id = '{run.deleted_customer}' "
            "AND status IN ('pending', 'approved')",
        )
    )


def _events(url: str, event_type: str) -> list[tuple]:
    return fetch_rows(
        url,
        "SELECT aggregate_id::text, aggregate_version, payload FROM event_store "
        "WHERE event_type = %s",
        [event_type],
    )


@contextmanager
def _registering(run) -> Iterator[dict[str, list]]:
    """Register customers one after another until the block ends."""
    answers: dict[str, list] = {"201": [], "503": [], "other": []}
    stop = threading.Event()
    session = client_of(run).session

    def register() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            response = session.post(
                f"{run.url('customer')}/api/customers/register/",
                json={
                    "name": f"Live {number}",
                    "email": f"live{number}@example.com",
                    "address": "2 Busy Road",
                },
                timeout=10,
            )
            key = str(response.status_code)
            if key == "201":
                answers[key].append(response.json()["id"])
            elif key == "503":
                answers[key].append(response.json()["detail"])
            else:
                answers["other"].append((response.status_code, response.text))
            stop.wait(0.05)

    thread = threading.Thread(target=register, daemon=True)
    thread.start()
    try:
        yield answers
    finally:
        stop.set()
        thread.join(timeout=30)


def test_unreachable_databases_are_refused(command_env, database_prefix):
    completed = migrate(
        {**command_env, "DATABASE_NAME_PREFIX": database_prefix + "none_"},
        "--to",
        "event_sourcing",
        "--dry-run",
    )
    assert completed.returncode != 0
    assert (
        f"refused: cannot reach the customer service's database {database_prefix}"
        "none_customer_service" in completed.stderr
    )


def test_an_event_store_holding_other_events_is_refused(run, command_env):
    url = _url(run, "customer")
    with open_connection(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO event_store (event_id, aggregate_type, aggregate_id, "
            "aggregate_version, event_type, schema_version, occurred_at, payload, "
            "metadata) VALUES (gen_random_uuid(), 'Customer', gen_random_uuid(), 1, "
            "'CustomerRegistered', 1, now(), '{}', '{}')"
        )
        connection.commit()
    try:
        completed = migrate(command_env, "--to", "event_sourcing")
    finally:
        # TRUNCATE stays the owner's: the append-only trigger refuses DELETE.
        with open_connection(url, autocommit=True) as connection:
            connection.cursor().execute("TRUNCATE event_store")
    assert completed.returncode != 0
    assert "already holds 1 events this step did not write" in completed.stderr
    assert recorded_approach(command_env) == "db_per_service"


def test_the_dry_run_prints_the_counts_and_changes_nothing(run, command_env):
    customers = len(ids(_url(run, "customer"), "customers_customer"))
    orders = len(ids(_url(run, "order"), "orders_order"))
    orphans = _orphans(run)
    assert len(orphans) == 2
    completed = migrate(command_env, "--to", "event_sourcing", "--dry-run")
    assert completed.returncode == 0, completed.stderr
    assert f"customers_customer -> CustomerImported: {customers}" in completed.stdout
    assert f"orders_order -> OrderImported: {orders}" in completed.stdout
    assert "(customer_missing_at_import): 2" in completed.stdout
    assert all(orphan in completed.stdout for orphan in orphans)
    assert "[to do] append" in completed.stdout
    assert "Dry run: nothing changed." in completed.stdout
    assert recorded_approach(command_env) == "db_per_service"
    for service in ("customer", "order"):
        url = _url(run, service)
        assert not fetch_value(url, "SELECT count(*) FROM event_store")
        assert not fetch_value(url, "SELECT to_regclass('strangler_opening_event')")
        assert not fetch_value(url, "SELECT to_regclass('strangler_migration_stage')")


def test_a_move_killed_during_its_snapshots_is_finished_by_the_rerun(run, command_env):
    customers_url, orders_url = _url(run, "customer"), _url(run, "order")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "approach", "migrate", "--to", "event_sourcing"],
        cwd=REPO_DIR,
        env={
            **command_env,
            "STRANGLER_BATCH_ROWS": "1",
            "STRANGLER_PAUSE_SECONDS": "0.5",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if "customers_customer: 2 rows read" in line:
                process.send_signal(signal.SIGKILL)
                break
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "".join(seen)
    staged = [
        key
        for (key,) in fetch_rows(
            customers_url, "SELECT aggregate_id::text FROM strangler_opening_event"
        )
    ]
    assert 2 <= len(staged) < CUSTOMERS
    assert not fetch_value(customers_url, "SELECT count(*) FROM event_store")
    assert recorded_approach(command_env) == "db_per_service"

    # Traffic continues meanwhile: a customer joins and orders, one already
    # staged is renamed (its snapshot must follow), and one leaves with an
    # open order (one more orphan).
    client = client_of(run)
    joined = client.register_customer(
        name="Late Comer", email="late@example.com", address="1 Late Lane"
    )
    placed = client.place_order(
        customer_id=joined["id"], lines=[("fig", 1, Decimal("2"))]
    )
    assert placed.status_code == 201, placed.text
    renamed = client.session.post(
        f"{run.url('customer')}/api/customers/{staged[0]}/update/",
        json={"name": "Renamed During The Copy"},
        timeout=10,
    )
    assert renamed.status_code == 200, renamed.text
    leaving = next(
        key
        for key in ids(customers_url, "customers_customer")
        if key not in staged and key != joined["id"]
    )
    client.delete_customer(leaving)
    orphans = sorted(
        [
            *_orphans(run),
            *ids(
                orders_url,
                "orders_order",
                where=f"WHERE customer_id = '{leaving}' AND status IN "
                "('pending', 'approved')",
            ),
        ]
    )
    assert len(orphans) == 4

    with _registering(run) as accepted:
        completed = migrate(command_env, "--to", "event_sourcing")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "1/7 prepare: done before, skipped" in completed.stdout
    assert "Cut-over window: writes refused for" in completed.stdout
    assert accepted["201"], "no registration was accepted during the move"
    assert accepted["503"], "no registration was refused by the event guard"
    assert accepted["other"] == []
    assert recorded_approach(command_env) == "event_sourcing"
    for orphan in orphans:
        assert orphan in completed.stdout

    # Every customer and order of the state tables: exactly one opening
    # event, at version 1, and the rows at the version their events reached.
    customers = ids(customers_url, "customers_customer")
    assert set(accepted["201"]) <= set(customers)
    assert joined["id"] in customers and leaving not in customers
    imported = _events(customers_url, "CustomerImported")
    assert sorted(key for key, _, _ in imported) == sorted(customers)
    assert {version for _, version, _ in imported} == {1}
    assert {key: p["name"] for key, _, p in imported}[staged[0]] == (
        "Renamed During The Copy"
    )
    orders = ids(orders_url, "orders_order")
    assert sorted(key for key, _, _ in _events(orders_url, "OrderImported")) == (
        sorted(orders)
    )
    assert not fetch_value(
        customers_url, "SELECT count(*) FROM customers_customer WHERE version <> 1"
    )
    # The orphan policy: imported, then cancelled, in the store and the rows.
    cancelled = _events(orders_url, "OrderCancelled")
    assert sorted(key for key, _, _ in cancelled) == orphans
    assert {(version, p["reason"]) for _, version, p in cancelled} == {
        (2, ORPHAN_REASON)
    }
    assert (
        sorted(
            ids(
                orders_url,
                "orders_order",
                where="WHERE status = 'cancelled' AND version = 2",
            )
        )
        == orphans
    )
    # Not re-broadcast: nothing waits in either outbox.
    for url in (customers_url, orders_url):
        assert not fetch_value(url, "SELECT count(*) FROM event_outbox")
    # The replica holds every customer; the auditor finds it all consistent.
    assert sorted(ids(orders_url, "orders_customer_replica")) == sorted(customers)
    report = audit_consistency(
        "event_sourcing", AuditDatabases(customer=customers_url, order=orders_url)
    )
    assert report.consistent, json.dumps(report.to_dict(), default=str)
    assert report.orphan_orders == []
    # The old writers are refused from now on: a write no event stands behind.
    refused = client_of(run).session.post(
        f"{run.url('customer')}/api/customers/register/",
        json={"name": "Too Early", "email": "early@example.com", "address": "x"},
        timeout=10,
    )
    assert refused.status_code == 503, refused.text
    assert refused.headers.get("Retry-After")


def test_the_services_serve_the_same_data_on_event_sourcing(run):
    customers_url, orders_url = _url(run, "customer"), _url(run, "order")
    for service in ("customer", "order"):
        run.restart_web(service, extra_env={"ARCHITECTURE_APPROACH": "event_sourcing"})
    client = client_of(run)
    # Every customer and order the state tables hold, served as it was moved
    # (the event-sourced repositories fold them from their opening events).
    for key, name, email in fetch_rows(
        customers_url, "SELECT id::text, name, email FROM customers_customer"
    ):
        shown = client.session.get(
            f"{run.url('customer')}/api/customers/{key}/", timeout=10
        )
        assert shown.status_code == 200, shown.text
        assert (shown.json()["name"], shown.json()["email"]) == (name, email)
    for key, status, total in fetch_rows(
        orders_url, "SELECT id::text, status, total FROM orders_order"
    ):
        shown = client.session.get(f"{run.url('order')}/api/orders/{key}/", timeout=10)
        assert shown.status_code == 200, shown.text
        assert shown.json()["status"] == status
        assert Decimal(shown.json()["total"]) == total
    customer = ids(customers_url, "customers_customer", where="ORDER BY id LIMIT 1")[0]
    history = client.session.get(
        f"{run.url('customer')}/api/customers/{customer}/history/", timeout=10
    )
    assert history.status_code == 200, history.text
    assert "CustomerImported" in history.text

    orphan = ids(
        orders_url,
        "orders_order",
        where=f"WHERE customer_id = '{run.deleted_customer}'",
    )[0]
    order = client.session.get(f"{run.url('order')}/api/orders/{orphan}/", timeout=10)
    assert order.status_code == 200, order.text
    assert order.json()["status"] == "cancelled"
    order_history = client.session.get(
        f"{run.url('order')}/api/orders/{orphan}/history/", timeout=10
    )
    assert order_history.status_code == 200, order_history.text
    assert "OrderImported" in order_history.text
    assert ORPHAN_REASON in order_history.text

    # A new order for an imported customer: the order service finds it in
    # its replica, filled by the move, and appends version 1 of the order.
    placed = client.place_order(customer_id=customer, lines=[("fig", 1, Decimal("1"))])
    assert placed.status_code in (201, 202), placed.text
    assert fetch_value(
        orders_url,
        "SELECT count(*) FROM event_store WHERE aggregate_id = %s "
        "AND event_type = 'OrderPlaced' AND aggregate_version = 1",
        [placed.json()["id"]],
    )
    # A change to an imported customer is its version 2.
    changed = client.session.post(
        f"{run.url('customer')}/api/customers/{customer}/update/",
        json={"address": "3 Event Street"},
        timeout=10,
    )
    assert changed.status_code == 200, changed.text
    assert (
        fetch_value(
            customers_url,
            "SELECT version FROM customers_customer WHERE id = %s",
            [customer],
        )
        == 2
    )


def test_a_rerun_after_the_move_does_nothing(run, command_env):
    url = _url(run, "order")
    before = fetch_value(url, "SELECT count(*) FROM event_store")
    completed = migrate(command_env, "--to", "event_sourcing")
    assert completed.returncode == 0, completed.stderr
    assert "already on event_sourcing" in completed.stdout
    assert "nothing to do" in completed.stdout
    assert fetch_value(url, "SELECT count(*) FROM event_store") == before


def test_dropping_the_old_side_removes_the_guard_and_the_staging(run, command_env):
    completed = migrate(command_env, "--to", "event_sourcing", "--drop-old", "--yes")
    assert completed.returncode == 0, completed.stderr
    for service in ("customer", "order"):
        url = _url(run, service)
        assert not fetch_value(url, "SELECT to_regclass('strangler_opening_event')")
        assert not fetch_value(
            url,
            "SELECT count(*) FROM pg_trigger "
            "WHERE tgname LIKE 'strangler_event_guard%'",
        )
    # The services on event_sourcing go on writing as before.
    joined = client_of(run).register_customer(
        name="After The Move", email="after@example.com", address="4 New Road"
    )
    assert (
        fetch_value(
            _url(run, "customer"),
            "SELECT event_type FROM event_store WHERE aggregate_id = %s",
            [joined["id"]],
        )
        == "CustomerRegistered"
    )

"""``approach migrate --to db_per_service``: a running shared_db platform moved
with its data, through the real command, on a real PostgreSQL server.

The tests run in order on one platform: refusals and the dry run first, then
a move killed in the middle of its copy (while customers keep registering
and leaving through the API), the rerun that finishes it, the services
serving the moved data on the new approach, a rerun that does nothing, and
finally dropping the old side.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import psycopg2
import pytest

from lab.scenarios.strangle_the_monolith import migrate_environment
from observe.audit import AuditDatabases, audit_consistency
from shared_events.configuration import REPO_DIR
from stack.connections import fetch_rows, fetch_value
from stack.platform_run import running_platform
from tests.strangler_support import (
    client_of,
    ids,
    migrate,
    recorded_approach,
)

pytestmark = pytest.mark.slow

CUSTOMERS = 6


@pytest.fixture(scope="module")
def run(server_url, database_prefix):
    """A shared_db platform with customers and orders, placed through its APIs."""
    with running_platform(
        approach="shared_db", server_url=server_url, prefix=database_prefix
    ) as started:
        client = client_of(started)
        for number in range(CUSTOMERS):
            customer = client.register_customer(
                name=f"Customer {number}",
                email=f"customer{number}@example.com",
                address=f"{number} Fig Street",
            )
            for lines in ([("fig", 2, Decimal("1.50"))], [("tree", 1, Decimal("9"))]):
                if number % 2:
                    lines = [*lines, ("pot", 3, Decimal("4.25"))]
                placed = client.place_order(customer_id=customer["id"], lines=lines)
                assert placed.status_code == 201, placed.text
        yield started


@pytest.fixture(scope="module")
def command_env(run, tmp_path_factory):
    """The command's environment: the run's databases, its own settings file
    (where the approach is recorded) and state directory."""
    return migrate_environment(
        run.env, tmp_path_factory.mktemp("strangler"), "shared_db"
    )


def _url(run, name: str) -> str:
    server, prefix = run.env["DATABASE_SERVER_URL"], run.env["DATABASE_NAME_PREFIX"]
    return f"{server.rstrip('/')}/{prefix}{name}"


def _database_exists(run, name: str) -> bool:
    return bool(
        fetch_value(
            run.env["DATABASE_SERVER_URL"].rstrip("/") + "/postgres",
            "SELECT count(*) FROM pg_database WHERE datname = %s",
            [run.env["DATABASE_NAME_PREFIX"] + name],
        )
    )


@contextmanager
def _registering(run) -> Iterator[dict[str, list]]:
    """Register customers one after another until the block ends: the ids
    accepted (201), the refusals (503) and any other answer."""
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
            if response.status_code == 201:
                answers["201"].append(response.json()["id"])
            elif response.status_code == 503:
                answers["503"].append(response.json()["detail"])
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


def test_a_target_more_than_one_step_on_is_refused(command_env):
    completed = migrate(command_env, "--to", "cqrs_es")
    assert completed.returncode != 0
    assert (
        "the platform is on shared_db; migrate one step at a time: next is "
        "db_per_service" in completed.stderr
    )


def test_a_step_not_built_yet_is_refused(command_env, tmp_path):
    dotenv = tmp_path / "other.env"
    dotenv.write_text("ARCHITECTURE_APPROACH=db_per_service\n")
    completed = migrate(
        {**command_env, "PLATFORM_DOTENV": str(dotenv)}, "--to", "direct_publish"
    )
    assert completed.returncode != 0
    assert "db_per_service -> direct_publish is not built yet" in completed.stderr


def test_a_platform_not_on_shared_db_is_refused(command_env, tmp_path):
    dotenv = tmp_path / "other.env"
    dotenv.write_text("ARCHITECTURE_APPROACH=event_sourcing\n")
    completed = migrate(
        {**command_env, "PLATFORM_DOTENV": str(dotenv)}, "--to", "db_per_service"
    )
    assert completed.returncode != 0
    assert "the platform is on event_sourcing" in completed.stderr
    assert "next is cqrs_es" in completed.stderr


def test_a_platform_without_its_databases_is_refused(command_env, database_prefix):
    completed = migrate(
        {**command_env, "DATABASE_NAME_PREFIX": database_prefix + "none_"},
        "--to",
        "db_per_service",
        "--dry-run",
    )
    assert completed.returncode != 0
    assert (
        f"refused: cannot reach the shared database {database_prefix}none_"
        "platform_shared" in completed.stderr
    )


def test_the_dry_run_prints_the_counts_and_changes_nothing(run, command_env):
    shared = _url(run, "platform_shared")
    customers = len(ids(shared, "customers_customer"))
    lines = fetch_value(shared, "SELECT count(*) FROM orders_orderline")
    completed = migrate(command_env, "--to", "db_per_service", "--dry-run")
    assert completed.returncode == 0, completed.stderr
    prefix = run.env["DATABASE_NAME_PREFIX"]
    assert f"customers_customer -> {prefix}customer_service: {customers}" in (
        completed.stdout
    )
    assert f"orders_orderline -> {prefix}order_service: {lines}" in completed.stdout
    assert "[to do] copy" in completed.stdout
    assert "Dry run: nothing changed." in completed.stdout
    assert recorded_approach(command_env) == "shared_db"
    # running_platform made every database, empty of tables until migrated.
    assert not fetch_value(
        _url(run, "customer_service"),
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
    )


def test_a_move_killed_during_its_copy_is_finished_by_the_rerun(run, command_env):
    shared = _url(run, "platform_shared")
    new_customers = _url(run, "customer_service")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "approach", "migrate", "--to", "db_per_service"],
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
    copied = ids(new_customers, "customers_customer")
    assert 2 <= len(copied) < CUSTOMERS
    assert recorded_approach(command_env) == "shared_db"

    # Traffic continues on the old side meanwhile: a customer joins, and one
    # already copied leaves (under shared_db their orders go with them).
    client = client_of(run)
    joined = client.register_customer(
        name="Late Comer", email="late@example.com", address="1 Late Lane"
    )
    placed = client.place_order(
        customer_id=joined["id"], lines=[("fig", 1, Decimal("2"))]
    )
    assert placed.status_code == 201, placed.text
    client.delete_customer(copied[0])

    # And while the rerun copies, freezes and switches, customers keep
    # registering: every one the platform accepted must be on the new side.
    with _registering(run) as accepted:
        completed = migrate(command_env, "--to", "db_per_service")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert accepted["201"], "no registration was accepted during the move"
    assert accepted["503"], "no registration was refused by the write freeze"
    assert set(accepted["201"]) <= set(ids(new_customers, "customers_customer"))
    assert accepted["other"] == []
    assert "1/6 databases: done before, skipped" in completed.stdout
    assert "Cut-over window: writes refused for" in completed.stdout
    assert "Warning" not in completed.stdout

    new_orders = _url(run, "order_service")
    for url, table in [
        (new_customers, "customers_customer"),
        (new_orders, "orders_order"),
        (new_orders, "orders_orderline"),
    ]:
        moved = ids(url, table)
        assert sorted(moved) == sorted(ids(shared, table)), table
        assert len(moved) == len(set(moved))
    assert joined["id"] in ids(new_customers, "customers_customer")
    assert copied[0] not in ids(new_customers, "customers_customer")
    assert len(ids(new_customers, "customers_customer")) == CUSTOMERS + len(
        accepted["201"]
    )
    # No foreign key to customers on the new side: there is no customer table.
    assert not fetch_value(
        new_orders,
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid = 'orders_order'::regclass",
    )
    assert not fetch_value(new_orders, "SELECT to_regclass('customers_customer')")
    assert recorded_approach(command_env) == "db_per_service"
    report = audit_consistency(
        "db_per_service", AuditDatabases(customer=new_customers, order=new_orders)
    )
    assert report.orphan_orders == []
    assert report.open_orders == fetch_value(
        shared,
        "SELECT count(*) FROM orders_order WHERE status IN ('pending', 'approved')",
    )
    # The old side is frozen: a write there is refused, not lost silently.
    with pytest.raises(psycopg2.Error) as refused:
        fetch_rows(shared, "DELETE FROM customers_customer")
    assert refused.value.pgcode == "55000"


def test_the_services_serve_the_moved_data_on_the_new_approach(run):
    # Until they restart, the services write to the frozen shared database:
    # refused with 503 and Retry-After, so the client tries again later.
    refused = client_of(run).session.post(
        f"{run.url('customer')}/api/customers/register/",
        json={"name": "Too Early", "email": "early@example.com", "address": "x"},
        timeout=10,
    )
    assert refused.status_code == 503, refused.text
    assert refused.headers.get("Retry-After")
    for service in ("customer", "order"):
        run.restart_web(service, extra_env={"ARCHITECTURE_APPROACH": "db_per_service"})
    client = client_of(run)
    customers = client.session.get(f"{run.url('customer')}/api/customers/", timeout=10)
    assert customers.status_code == 200, customers.text
    moved = ids(_url(run, "customer_service"), "customers_customer")[0]
    placed = client.place_order(
        customer_id=moved,
        lines=[("fig", 1, Decimal("1")), ("tree", 2, Decimal("3"))],
    )
    assert placed.status_code == 201, placed.text
    assert fetch_value(
        _url(run, "order_service"),
        "SELECT count(*) FROM orders_order WHERE id = %s",
        [placed.json()["id"]],
    )


def test_a_rerun_after_the_move_does_nothing(run, command_env):
    new_orders = _url(run, "order_service")
    before = fetch_rows(new_orders, "SELECT id::text, version FROM orders_order")
    completed = migrate(command_env, "--to", "db_per_service")
    assert completed.returncode == 0, completed.stderr
    assert "already on db_per_service" in completed.stdout
    assert "nothing to do" in completed.stdout
    assert sorted(before) == sorted(
        fetch_rows(new_orders, "SELECT id::text, version FROM orders_order")
    )


def test_the_old_side_is_dropped_only_when_confirmed(run, command_env):
    unconfirmed = subprocess.run(
        [sys.executable, "manage.py", "approach", "migrate", "--to"]
        + ["db_per_service", "--drop-old"],
        cwd=REPO_DIR,
        env=command_env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert unconfirmed.returncode != 0
    assert "add --yes to confirm" in unconfirmed.stderr
    assert _database_exists(run, "platform_shared")
    completed = migrate(command_env, "--to", "db_per_service", "--drop-old", "--yes")
    assert completed.returncode == 0, completed.stderr
    assert not _database_exists(run, "platform_shared")

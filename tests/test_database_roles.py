"""Least privilege on a real platform: every process connects as its own role.

A cqrs_es platform started as the lab and the demo start it
(``running_platform``: each ``manage.py`` process prepares the run's roles,
``stack/database_roles.py``), a customer registered and an order placed
through the APIs and projected by the projectors: the normal paths work as
the roles. Then, connected as each role the way the processes are, the
destructive ones do not: no role changes an event store, no writer opens a
read database, no projector a write database, no service the other's.
"""

from __future__ import annotations

import os
import time
from decimal import Decimal

import psycopg2
import pytest

from lab.client import PlatformClient
from shared_events.configuration import (
    READ_DATABASE_NAMES,
    SERVICE_DATABASE_NAMES,
    SERVICES,
    SHARED_DATABASE_NAME,
    load_env,
)
from stack import environment
from stack.connections import fetch_rows, open_connection
from stack.database_roles import PlatformRoles, Role, platform_roles
from stack.platform_run import PlatformRun, running_platform

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def platform(server_url, database_prefix):
    environment.ensure_local_secrets()
    load_env()
    with running_platform(
        approach="cqrs_es", server_url=server_url, prefix=database_prefix
    ) as run:
        client = PlatformClient(
            customer_url=run.url("customer"),
            order_url=run.url("order"),
            token=run.token,
        )
        customer = client.register_customer(
            name="Rhea", email="rhea@example.com", address="1 Grant Street"
        )
        order = _placed_when_replicated(client, customer["id"])
        # The credit saga appends the order's answer later: the event stores
        # hold still only once it came.
        _wait_for_answer(client, order["id"])
        _wait_for_rows(run, "customer", "read_customer_summary")
        _wait_for_rows(run, "order", "read_order_view")
        yield run


@pytest.fixture(scope="module")
def roles(platform: PlatformRun) -> PlatformRoles:
    """The run's roles, their passwords where its processes read them."""
    return platform_roles(prefix=platform.env["DATABASE_NAME_PREFIX"], env=os.environ)


def test_every_service_process_connects_as_its_own_role_never_a_superuser(
    platform, roles
):
    prefix = platform.env["DATABASE_NAME_PREFIX"]
    expected = {
        **{prefix + SERVICE_DATABASE_NAMES[s]: roles.writers[s].name for s in SERVICES},
        **{prefix + READ_DATABASE_NAMES[s]: roles.projectors[s].name for s in SERVICES},
    }
    deadline = time.monotonic() + 30
    while True:
        # The harness's own probes (the relay's liveness check) connect as
        # the server's superuser, as an operator would: they are left out.
        sessions = fetch_rows(
            platform.env["DATABASE_SERVER_URL"],
            "SELECT a.datname, a.usename, r.rolsuper FROM pg_stat_activity a"
            " JOIN pg_roles r ON r.oid = a.usesysid"
            " WHERE a.datname = ANY(%s) AND a.usename <> current_user",
            [list(expected)],
            dbname="postgres",
        )
        if {database for database, _, _ in sessions} == set(expected):
            break
        assert time.monotonic() < deadline, f"sessions seen: {sessions}"
        time.sleep(0.5)

    assert {(database, user) for database, user, _ in sessions} == set(expected.items())
    assert not any(superuser for _, _, superuser in sessions)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE event_store SET payload = '{}'::jsonb",
        "DELETE FROM event_store",
        "TRUNCATE event_store",
        "ALTER TABLE event_store DISABLE TRIGGER event_store_append_only",
    ],
    ids=["update", "delete", "truncate", "disable the trigger"],
)
def test_no_services_role_can_change_its_event_store(
    platform, roles, service, statement
):
    database = _write_database(platform, service)
    stored = _count(platform, database, "event_store")
    assert stored > 0
    with (
        _connected(platform, roles.writers[service], database) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT count(*) FROM event_store")
        assert cursor.fetchone()[0] == stored
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute(statement)

    assert _count(platform, database, "event_store") == stored


@pytest.mark.parametrize("service", SERVICES)
def test_a_writer_opens_neither_a_read_database_nor_the_other_services(
    platform, roles, service
):
    prefix = platform.env["DATABASE_NAME_PREFIX"]
    (other,) = [s for s in SERVICES if s != service]
    refused = [
        prefix + READ_DATABASE_NAMES[service],
        prefix + READ_DATABASE_NAMES[other],
        prefix + SERVICE_DATABASE_NAMES[other],
    ]
    for database in refused:
        with (
            pytest.raises(psycopg2.OperationalError, match="permission denied"),
            _connected(platform, roles.writers[service], database),
        ):
            pass


@pytest.mark.parametrize("service", SERVICES)
def test_a_projector_writes_its_read_database_and_opens_no_write_database(
    platform, roles, service
):
    prefix = platform.env["DATABASE_NAME_PREFIX"]
    projector = roles.projectors[service]
    with (
        _connected(
            platform, projector, prefix + READ_DATABASE_NAMES[service]
        ) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT count(*) FILTER (WHERE tableowner <> current_user), count(*)"
            " FROM pg_tables WHERE schemaname = 'public'"
        )
        assert cursor.fetchone()[0] == 0  # the projector owns every table there
        cursor.execute("UPDATE event_processed SET consumer = consumer")
        assert cursor.rowcount > 0  # the events it projected
    for database in [
        *(prefix + SERVICE_DATABASE_NAMES[s] for s in SERVICES),
        prefix + SHARED_DATABASE_NAME,
    ]:
        with (
            pytest.raises(psycopg2.OperationalError, match="permission denied"),
            _connected(platform, projector, database),
        ):
            pass


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_made_the_write_tables_as_the_owner_role(platform, roles, service):
    owners = fetch_rows(
        platform.database_url(service),
        "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'",
    )
    assert owners == [(roles.owner.name,)]


def _write_database(platform: PlatformRun, service: str) -> str:
    return platform.database_url(service).rsplit("/", 1)[1]


def _connected(platform: PlatformRun, role: Role, database: str):
    return open_connection(
        platform.env["DATABASE_SERVER_URL"],
        dbname=database,
        user=role.name,
        password=role.password,
        connect_timeout=5,
    )


def _count(platform: PlatformRun, database: str, table: str) -> int:
    (count,) = fetch_rows(
        platform.env["DATABASE_SERVER_URL"],
        f"SELECT count(*) FROM {table}",
        dbname=database,
    )[0]
    return count


def _wait_for_rows(run: PlatformRun, service: str, table: str) -> None:
    deadline = time.monotonic() + 60
    while _count(run, run.read_database_url(service).rsplit("/", 1)[1], table) == 0:
        assert time.monotonic() < deadline, f"nothing projected into {table}"
        time.sleep(0.3)


def _wait_for_answer(client: PlatformClient, order_id: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = client.session.get(
            f"{client.order_url}/api/orders/{order_id}/", timeout=10
        )
        if response.ok and response.json()["status"] != "pending":
            assert response.json()["status"] == "approved", response.text
            return
        time.sleep(0.3)
    raise AssertionError(f"order {order_id} is still pending")


def _placed_when_replicated(client: PlatformClient, customer_id: str) -> dict:
    """The order, placed once the order service's replica knows the customer."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = client.place_order(
            customer_id=customer_id, lines=[("SKU-R", 1, Decimal("3.25"))]
        )
        if response.status_code == 201:
            return response.json()
        time.sleep(0.3)
    raise AssertionError(f"the order service never learned of {customer_id}")

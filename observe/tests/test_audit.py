"""The auditor against real databases: consistent passes, drift is named, repair works.

One platform's databases (both services' write and read databases, migrated
under cqrs_es by the real ``manage.py``) hold a small story told as events:
three customers, four orders, one rejected order. The read models are built
by the real projections (``rebuild_read_models``), so the first test is also
a check that projections and auditor agree. Each test tampers with a copy
the way a bug or a lost event would, and the tables are put back after it.

One module of some 600 lines because every test shares the story and the
migrated platform it is told on (a module-scoped fixture).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg2
import pytest

from observe.audit import (
    AuditDatabases,
    AuditError,
    WriteSideFold,
    audit_and_repair,
    audit_consistency,
    expected_customer_summaries,
    expected_order_views,
    rebuild_read_models,
    render_audit,
    repair_replica,
)
from observe.event_tables import EventTables
from platform_cli.audit_consistency import run as command_audit_consistency
from shared_events.configuration import REPO_DIR, all_database_names
from shared_events.events import encode, format_timestamp, new_envelope
from stack import postgres
from stack.local_aws import local_client
from stack.moto_server import start_moto_server
from stack.processes import manage_command

SERVER_URL = os.environ.get("DATABASE_SERVER_URL") or postgres.EXTERNAL_URL
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.skipif(
    not postgres.server_reachable(SERVER_URL), reason="needs a PostgreSQL server"
)

# What each database's tables look like after the story; put back after each test.
SNAPSHOT_TABLES = {
    "customer": ["customers_customer", "event_outbox"],
    "order": [
        "orders_order",
        "orders_orderline",
        "orders_customer_replica",
        "event_outbox",
    ],
    "customer_read": [
        "read_customer_summary",
        "read_customer_summary_order",
        "event_processed",
        "event_aggregate_cursor",
    ],
    "order_read": [
        "read_order_view",
        "read_order_view_customer",
        "event_processed",
        "event_aggregate_cursor",
    ],
}


# The story ------------------------------------------------------------------------


def line(sku: str, quantity: int, unit_price: str) -> dict:
    return {"sku": sku, "quantity": quantity, "unit_price": unit_price}


# (aggregate, version, event type, seconds after T0, payload without the ids);
# an order's "for" names its customer.
STORY = [
    ("ada", 1, "CustomerRegistered", 0,
     {"name": "Ada", "email": "ada@example.com", "address": "London"}),
    ("bob", 1, "CustomerRegistered", 1,
     {"name": "Bob", "email": "bob@example.com", "address": "Leeds"}),
    ("cy", 1, "CustomerRegistered", 2,
     {"name": "Cy", "email": "cy@example.com", "address": "York"}),
    ("o1", 1, "OrderPlaced", 3,
     {"for": "ada", "total": "30.00",
      "lines": [line("A", 2, "10.00"), line("B", 1, "10")]}),
    ("o2", 1, "OrderPlaced", 4,
     {"for": "ada", "total": "12.50", "lines": [line("C", 1, "12.50")]}),
    ("o3", 1, "OrderPlaced", 4.5,
     {"for": "bob", "total": "7.00", "lines": [line("D", 1, "7.00")]}),
    ("ada", 2, "CustomerRenamed", 5, {"name": "Ada Lovelace"}),
    ("cy", 2, "CustomerEmailChanged", 6, {"email": "cy@example.org"}),
    ("o4", 1, "OrderPlaced", 6.5,
     {"for": "cy", "total": "100.00", "lines": [line("E", 4, "25.00")]}),
    ("cy", 3, "CustomerDeletionRejected", 7, {"reason": "open orders"}),
    ("bob", 2, "CustomerDeleted", 8, {}),
    ("o3", 2, "OrderCancelled", 8.5, {"for": "bob", "reason": "customer_deleted"}),
    ("o2", 2, "OrderCancelled", 9, {"for": "ada", "reason": "customer_request"}),
    ("r1", 1, "OrderRejected", 10, {"for": "ghost", "reason": "unknown customer"}),
]  # fmt: skip
STORY_IDS = ("ada", "bob", "cy", "o1", "o2", "o3", "o4", "r1", "ghost")


def story(ids: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """The customer service's events and the order service's, in the order told."""
    customer_events: list[dict] = []
    order_events: list[dict] = []
    for aggregate, version, event_type, seconds, told in STORY:
        payload = dict(told)
        if event_type.startswith("Order"):
            kind, target = "Order", order_events
            payload = {
                "order_id": ids[aggregate],
                "customer_id": ids[payload.pop("for")],
                **payload,
            }
        else:
            kind, target = "Customer", customer_events
            payload = {"customer_id": ids[aggregate], **payload}
        target.append(
            {
                "event_id": str(uuid.uuid4()),
                "aggregate_type": kind,
                "aggregate_id": ids[aggregate],
                "aggregate_version": version,
                "event_type": event_type,
                "occurred_at": T0 + timedelta(seconds=seconds),
                "payload": payload,
            }
        )
    return customer_events, order_events


def append_events(url: str, events: list[dict], producer: str) -> None:
    with connected(url) as cursor:
        for event in events:
            cursor.execute(
                "INSERT INTO event_store (event_id, aggregate_type, aggregate_id, "
                "aggregate_version, event_type, schema_version, occurred_at, "
                "payload, metadata) VALUES (%s, %s, %s, %s, %s, 1, %s, %s, %s)",
                [
                    event["event_id"],
                    event["aggregate_type"],
                    event["aggregate_id"],
                    event["aggregate_version"],
                    event["event_type"],
                    event["occurred_at"],
                    json.dumps(event["payload"]),
                    json.dumps(
                        {"producer": producer, "correlation_id": event["event_id"]}
                    ),
                ],
            )


def write_cached_state(databases: AuditDatabases, ids: dict[str, str]) -> None:
    """The write side's current-state tables, as the services keep them."""
    with connected(databases.customer) as cursor:
        for name, full_name, email, address, version in [
            ("ada", "Ada Lovelace", "ada@example.com", "London", 2),
            ("cy", "Cy", "cy@example.org", "York", 3),
        ]:
            cursor.execute(
                "INSERT INTO customers_customer (id, name, email, address, version, "
                "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, now(), now())",
                [ids[name], full_name, email, address, version],
            )
    with connected(databases.order) as cursor:
        for name, customer, status, total, version in [
            ("o1", "ada", "pending", "30.00", 1),
            ("o2", "ada", "cancelled", "12.50", 2),
            ("o3", "bob", "cancelled", "7.00", 2),
            ("o4", "cy", "pending", "100.00", 1),
        ]:
            cursor.execute(
                "INSERT INTO orders_order (id, customer_id, status, total, version, "
                "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, now(), now())",
                [ids[name], ids[customer], status, total, version],
            )


# Databases ------------------------------------------------------------------------


class connected:
    """A committed, closed-afterwards psycopg2 cursor (``with connected(url) as c``)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self):
        self.connection = psycopg2.connect(self.url)
        self.cursor = self.connection.cursor()
        return self.cursor

    def __exit__(self, kind, error, trace):
        try:
            if kind is None:
                self.connection.commit()
        finally:
            self.connection.close()


def one_value(url: str, statement: str, params=()):
    with connected(url) as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


# A local address nobody serves: no manage.py run by these tests starts moto.
NO_BROKER = "http://127.0.0.1:9"


@dataclass
class Platform:
    prefix: str
    databases: AuditDatabases
    ids: dict[str, str]

    def url(self, name: str) -> str:
        return getattr(self.databases, name)

    def tamper(self, name: str, statement: str, params=()) -> None:
        """Change one copy behind the auditor's back, as a bug or lost event would."""
        with connected(self.url(name)) as cursor:
            cursor.execute(statement, params)

    def environment(self, approach: str) -> dict[str, str]:
        return {
            "ARCHITECTURE_APPROACH": approach,
            "DATABASE_SERVER_URL": SERVER_URL,
            "DATABASE_NAME_PREFIX": self.prefix,
            "AWS_ENDPOINT_URL": NO_BROKER,
        }


def migrate_in_parallel(environment: dict[str, str]) -> None:
    env = {**os.environ, **environment}
    runs = [
        subprocess.Popen(
            manage_command(service, "migrate", "--no-input", "-v", "0", *database),
            cwd=REPO_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for service in ("customer", "order")
        for database in ([], ["--database", "read"])
    ]
    for run in runs:
        output, _ = run.communicate(timeout=120)
        assert run.returncode == 0, output.decode()[-2000:]


@pytest.fixture(scope="module")
def platform():
    prefix = f"audit{os.getpid()}_{uuid.uuid4().hex[:6]}_"
    names = all_database_names(prefix)
    postgres.create_databases(server_url=SERVER_URL, names=names)
    try:
        ids = {name: str(uuid.uuid4()) for name in STORY_IDS}
        databases = AuditDatabases(
            customer=postgres.database_url(SERVER_URL, f"{prefix}customer_service"),
            order=postgres.database_url(SERVER_URL, f"{prefix}order_service"),
            customer_read=postgres.database_url(SERVER_URL, f"{prefix}customer_read"),
            order_read=postgres.database_url(SERVER_URL, f"{prefix}order_read"),
        )
        result = Platform(prefix=prefix, databases=databases, ids=ids)
        migrate_in_parallel(result.environment("cqrs_es"))
        customer_events, order_events = story(ids)
        append_events(databases.customer, customer_events, "customer")
        append_events(databases.order, order_events, "order")
        write_cached_state(databases, ids)
        with pytest.MonkeyPatch.context() as patch:
            # The rebuild's manage.py would otherwise start the shared moto
            # daemon, which outlives the tests; the replay needs no broker.
            patch.setenv("AWS_ENDPOINT_URL", NO_BROKER)
            rebuild_read_models("cqrs_es", ["customer", "order"], databases)
        repair_replica(audit_consistency("cqrs_es", databases), databases)
        for name, tables in SNAPSHOT_TABLES.items():
            with connected(result.url(name)) as cursor:
                cursor.execute("CREATE SCHEMA audit_snapshot")
                for table in tables:
                    cursor.execute(
                        f"CREATE TABLE audit_snapshot.{table} AS TABLE public.{table}"
                    )
        yield result
    finally:
        postgres.drop_databases(server_url=SERVER_URL, names=names)


@pytest.fixture
def story_platform(platform, monkeypatch):
    """The platform as the story left it, put back after the test."""
    yield platform
    for name, tables in SNAPSHOT_TABLES.items():
        with connected(platform.url(name)) as cursor:
            cursor.execute(f"TRUNCATE {', '.join(f'public.{t}' for t in tables)}")
            for table in tables:
                cursor.execute(
                    f"INSERT INTO public.{table} SELECT * FROM audit_snapshot.{table}"
                )


def run_audit(platform, monkeypatch, capsys, approach, *, repair=False, wait=0.0):
    """``manage.py audit_consistency [--repair] [--wait]``; (exit status, JSON)."""
    for key, value in platform.environment(approach).items():
        monkeypatch.setenv(key, value)
    code = command_audit_consistency(
        argparse.Namespace(json=True, repair=repair, wait=wait)
    )
    return code, json.loads(capsys.readouterr().out)


def run_audit_text(platform, monkeypatch, capsys, approach) -> tuple[int, str]:
    for key, value in platform.environment(approach).items():
        monkeypatch.setenv(key, value)
    code = command_audit_consistency(
        argparse.Namespace(json=False, repair=False, wait=0.0)
    )
    return code, capsys.readouterr().out


# Approach 5: the read models -------------------------------------------------------


def test_the_projections_and_the_auditor_agree_on_a_consistent_platform(
    story_platform, monkeypatch, capsys
):
    code, report = run_audit(story_platform, monkeypatch, capsys, "cqrs_es")

    assert code == 0, report["differences"]
    assert report["consistent"] is True
    assert report["events_folded"] == 14
    assert report["rows_checked"] == {
        "read_customer_summary": 3,
        "read_customer_summary_order": 4,
        "read_order_view": 4,
        "read_order_view_customer": 3,
        "orders_customer_replica": 3,
    }
    assert report["orphan_orders"] == [] and report["open_orders"] == 2
    assert [b["unpublished"] for b in report["outbox_backlog"]] == [0, 0]


def test_a_tampered_read_model_row_is_named_with_its_fields(
    story_platform, monkeypatch, capsys
):
    ids = story_platform.ids
    story_platform.tamper(
        "customer_read",
        "UPDATE read_customer_summary SET name = 'Mallory', lifetime_value = 1 "
        "WHERE customer_id = %s",
        [ids["cy"]],
    )
    story_platform.tamper(
        "order_read", "DELETE FROM read_order_view WHERE order_id = %s", [ids["o1"]]
    )

    code, text = run_audit_text(story_platform, monkeypatch, capsys, "cqrs_es")

    assert code == 1
    assert "Verdict: DIFFERENCES FOUND" in text
    assert (
        f'read_customer_summary {ids["cy"]}: different: name expected "Cy" found '
        '"Mallory"; lifetime_value expected "100.00" found "1.00"'
    ) in text
    assert f"read_order_view {ids['o1']}: missing" in text

    code, report = run_audit(story_platform, monkeypatch, capsys, "cqrs_es")
    assert code == 1
    assert [(d["table"], d["row_id"], d["kind"]) for d in report["differences"]] == [
        ("read_customer_summary", ids["cy"], "different"),
        ("read_order_view", ids["o1"], "missing"),
    ]
    assert report["differences"][0]["fields"]["name"] == {
        "expected": "Cy",
        "actual": "Mallory",
    }


def test_repair_replays_the_read_models_and_the_audit_passes_again(
    story_platform, monkeypatch, capsys
):
    ids = story_platform.ids
    story_platform.tamper(
        "customer_read",
        "UPDATE read_customer_summary SET order_count = 99 WHERE customer_id = %s",
        [ids["ada"]],
    )

    code, report = run_audit(
        story_platform, monkeypatch, capsys, "cqrs_es", repair=True
    )

    assert code == 0, report
    assert report["before_repair"]["differences"][0]["fields"] == {
        "order_count": {"expected": 2, "actual": 99}
    }
    assert any("customer read models rebuilt by replay" in r for r in report["repairs"])
    assert not any("order read models" in r for r in report["repairs"])
    assert (
        one_value(
            story_platform.url("customer_read"),
            "SELECT order_count FROM read_customer_summary WHERE customer_id = %s",
            [ids["ada"]],
        )
        == 2
    )


# Approaches 3 and 4: the replica --------------------------------------------------


def test_direct_publish_a_lost_deletion_is_a_live_replica_row_and_an_orphan(
    story_platform, monkeypatch, capsys
):
    """Cy was deleted, and the CustomerDeleted never left the customer service."""
    ids = story_platform.ids
    story_platform.tamper(
        "customer", "DELETE FROM customers_customer WHERE id = %s", [ids["cy"]]
    )

    code, report = run_audit(story_platform, monkeypatch, capsys, "direct_publish")

    assert code == 1
    assert report["lost_events"] == 1
    assert [(d["row_id"], d["kind"]) for d in report["differences"]] == [
        (ids["cy"], "extra")
    ]
    assert "CustomerDeleted lost" in report["differences"][0]["note"]
    assert report["orphan_orders"] == [
        {"order_id": ids["o4"], "customer_id": ids["cy"]}
    ]

    code, report = run_audit(
        story_platform, monkeypatch, capsys, "direct_publish", repair=True
    )

    # The replica is put right; the orphan order is the order service's call.
    assert code == 1
    assert report["differences"] == [] and len(report["orphan_orders"]) == 1
    assert f"replica {ids['cy']}: marked deleted" in report["repairs"]
    assert (
        one_value(
            story_platform.url("order"),
            "SELECT deleted FROM orders_customer_replica WHERE id = %s",
            [ids["cy"]],
        )
        is True
    )


def test_event_sourcing_replica_drift_and_outbox_backlog(
    story_platform, monkeypatch, capsys
):
    ids = story_platform.ids
    story_platform.tamper(
        "order",
        "UPDATE orders_customer_replica SET email = 'old@example.com' WHERE id = %s",
        [ids["ada"]],
    )
    story_platform.tamper(
        "customer",
        "INSERT INTO event_outbox (event_id, event_type, aggregate_type, "
        "aggregate_id, aggregate_version, body, created_at, attempts, "
        "last_error) VALUES (%s, 'CustomerRenamed', 'Customer', %s, 3, '{}', "
        "now() - interval '7 seconds', 0, '')",
        [str(uuid.uuid4()), ids["ada"]],
    )

    code, report = run_audit(story_platform, monkeypatch, capsys, "event_sourcing")

    assert code == 1
    (difference,) = report["differences"]
    assert (difference["table"], difference["row_id"]) == (
        "orders_customer_replica",
        ids["ada"],
    )
    assert list(difference["fields"]) == ["email"]
    customer_backlog = report["outbox_backlog"][0]
    assert customer_backlog["unpublished"] == 1
    assert customer_backlog["oldest_age_seconds"] == pytest.approx(7, abs=2)
    assert "read models vs both event stores" not in report["checks"]

    code, report = run_audit(
        story_platform, monkeypatch, capsys, "event_sourcing", repair=True
    )
    assert code == 0
    assert report["repairs"] == [f"replica {ids['ada']}: set as expected"]


def test_wait_gives_lag_the_time_to_settle(story_platform, monkeypatch, capsys):
    ids = story_platform.ids
    replica = story_platform.url("order")
    with connected(replica) as cursor:
        cursor.execute(
            "CREATE TEMP TABLE held AS SELECT * FROM orders_customer_replica "
            "WHERE id = %s",
            [ids["bob"]],
        )
        cursor.execute(
            "UPDATE orders_customer_replica SET deleted = false WHERE id = %s",
            [ids["bob"]],
        )

    def the_event_arrives():
        time.sleep(0.8)
        with connected(replica) as cursor:
            cursor.execute(
                "UPDATE orders_customer_replica SET deleted = true WHERE id = %s",
                [ids["bob"]],
            )

    code, report = run_audit(story_platform, monkeypatch, capsys, "event_sourcing")
    assert code == 1

    arrival = threading.Thread(target=the_event_arrives)
    arrival.start()
    try:
        code, report = run_audit(
            story_platform, monkeypatch, capsys, "event_sourcing", wait=10
        )
    finally:
        arrival.join()

    assert code == 0
    assert 0.3 < report["waited_seconds"] < 5


# EVENT_STORE=dynamodb: the events are in DynamoDB ----------------------------------


@pytest.fixture(scope="module")
def moto():
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()


def event_tables_holding(moto, events_by_service: dict[str, list[dict]]) -> EventTables:
    """DynamoDB event tables on moto, one commit item per event, in the fixed
    item format the write side uses."""
    dynamodb = local_client("dynamodb", moto.endpoint_url)
    prefix = f"audit-{uuid.uuid4().hex[:8]}-"  # an EVENT_TOPOLOGY_PREFIX
    names = {}
    for service, events in events_by_service.items():
        name = f"{prefix}{service}-events-store"
        dynamodb.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "aggregate_id", "KeyType": "HASH"},
                {"AttributeName": "version", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "aggregate_id", "AttributeType": "S"},
                {"AttributeName": "version", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        for event in events:
            envelope = new_envelope(
                event_type=event["event_type"],
                aggregate_type=event["aggregate_type"],
                aggregate_id=event["aggregate_id"],
                aggregate_version=event["aggregate_version"],
                producer=service,
                payload=event["payload"],
                occurred_at=event["occurred_at"],
            )
            version = {"N": str(event["aggregate_version"])}
            dynamodb.put_item(
                TableName=name,
                Item={
                    "aggregate_id": {"S": event["aggregate_id"]},
                    "version": version,
                    "last_version": version,
                    "aggregate_type": {"S": event["aggregate_type"]},
                    "producer": {"S": service},
                    "committed_at": {"S": format_timestamp(event["occurred_at"])},
                    "events": {"L": [{"S": encode(envelope)}]},
                },
            )
        names[service] = name
    return EventTables(names=names, endpoint_url=moto.endpoint_url)


def test_under_dynamodb_the_auditor_folds_the_event_tables(
    story_platform, moto, monkeypatch, capsys
):
    """The same story in DynamoDB: consistent. Without Bob's deletion there (the
    PostgreSQL event store still has it), the copies that show it differ: the
    auditor took its truth from DynamoDB."""
    ids = story_platform.ids
    customer_events, order_events = story(ids)
    whole = event_tables_holding(
        moto, {"customer": customer_events, "order": order_events}
    )
    databases = dataclasses.replace(story_platform.databases, event_tables=whole)

    report = audit_consistency("cqrs_es", databases)

    assert report.consistent, [d.describe() for d in report.differences]
    assert (report.events_folded, report.event_store) == (14, "dynamodb")
    assert "outbox backlog" not in report.checks  # the table's stream is the outbox
    assert "Events folded from the DynamoDB event tables: 14" in render_audit(report)

    # The command finds the same tables from the services' settings.
    settings = {
        **story_platform.environment("cqrs_es"),
        "EVENT_STORE": "dynamodb",
        "AWS_ENDPOINT_URL": moto.endpoint_url,
        "EVENT_TOPOLOGY_PREFIX": whole.names["order"].removesuffix(
            "order-events-store"
        ),
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    code = command_audit_consistency(
        argparse.Namespace(json=True, repair=False, wait=0.0)
    )
    audited = json.loads(capsys.readouterr().out)
    assert (code, audited["event_store"], audited["events_folded"]) == (
        0,
        "dynamodb",
        14,
    )

    without_deletion = [
        event
        for event in customer_events
        if (event["aggregate_id"], event["event_type"])
        != (ids["bob"], "CustomerDeleted")
    ]
    partial = event_tables_holding(
        moto, {"customer": without_deletion, "order": order_events}
    )
    databases = dataclasses.replace(story_platform.databases, event_tables=partial)

    report = audit_consistency("event_sourcing", databases)

    assert report.events_folded == 13
    assert [(d.table, d.row_id, list(d.fields)) for d in report.differences] == [
        ("orders_customer_replica", ids["bob"], ["version", "deleted"])
    ]

    # The replay reads PostgreSQL's event store: it must not rebuild from there.
    repaired = audit_and_repair("cqrs_es", databases)
    assert any("read models not rebuilt" in action for action in repaired.repairs)
    assert f"replica {ids['bob']}: set as expected" in repaired.repairs
    assert {d.table for d in repaired.differences} == {
        "read_customer_summary",
        "read_order_view",
        "read_order_view_customer",
    }


def test_a_malformed_commit_is_an_audit_error_naming_the_table(story_platform, moto):
    tables = event_tables_holding(moto, {"customer": [], "order": []})
    local_client("dynamodb", moto.endpoint_url).put_item(
        TableName=tables.names["customer"],
        Item={"aggregate_id": {"S": "x"}, "version": {"N": "1"}},
    )
    databases = dataclasses.replace(story_platform.databases, event_tables=tables)
    with pytest.raises(AuditError, match=tables.names["customer"]):
        audit_consistency("event_sourcing", databases)


# Approaches 1 and 2: orphans only -------------------------------------------------


def test_db_per_service_judges_orphan_orders_only(story_platform, monkeypatch, capsys):
    ids = story_platform.ids
    # The replica is not used by approach 2.
    story_platform.tamper("order", "TRUNCATE orders_customer_replica")

    code, report = run_audit(story_platform, monkeypatch, capsys, "db_per_service")
    assert code == 0
    assert report["checks"] == ["orphan orders"]

    story_platform.tamper(
        "customer", "DELETE FROM customers_customer WHERE id = %s", [ids["ada"]]
    )

    code, report = run_audit(story_platform, monkeypatch, capsys, "db_per_service")
    assert code == 1
    assert report["orphan_orders"] == [
        {"order_id": ids["o1"], "customer_id": ids["ada"]}
    ]


# The fold itself, no database -----------------------------------------------------


def test_the_fold_counts_only_placed_orders_and_only_data_changing_versions():
    ids = {name: str(uuid.uuid4()) for name in STORY_IDS}
    customer_events, order_events = story(ids)
    fold = WriteSideFold()
    for event in customer_events + order_events:
        fold.apply(event)

    summaries = expected_customer_summaries(fold)
    views = expected_order_views(fold)

    assert set(summaries) == {ids["ada"], ids["bob"], ids["cy"]}  # not the ghost
    assert summaries[ids["ada"]] == {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "address": "London",
        "registered": True,
        "deleted": False,
        "customer_version": 2,
        "order_count": 2,
        "open_order_count": 1,
        "lifetime_value": Decimal("30.00"),
        "last_order_at": T0 + timedelta(seconds=4),
    }
    # CustomerDeletionRejected (version 3) changes nothing a copy shows.
    assert summaries[ids["cy"]]["customer_version"] == 2
    assert set(views) == {ids["o1"], ids["o2"], ids["o3"], ids["o4"]}
    assert views[ids["o3"]]["customer_deleted"] is True
    assert views[ids["o3"]]["cancel_reason"] == "customer_deleted"
    assert views[ids["o3"]]["cancelled_at"] == T0 + timedelta(seconds=8.5)

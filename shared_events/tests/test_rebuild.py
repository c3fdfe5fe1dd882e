"""Rebuilding the customer service's read models by replay, under approach 5.

Run in a pytest process of its own, under cqrs_es::

    ARCHITECTURE_APPROACH=cqrs_es DATABASE_NAME_PREFIX=rebuildhelper_ \\
        .venv/bin/python -m pytest shared_events/tests/test_rebuild.py \\
        --ds=customer_service.settings

Each test tells a story as events: the customer events in the service's own
event store, the order events in a stand-in for the order service's write
database. The live read model is what the read-side consumer's code path
(``apply_event`` with ``PROJECTION_HANDLERS``) makes of them, arriving in a
shuffled order; the rebuild must end where the live projection is.
"""

from __future__ import annotations

import io
import json
import os
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import psycopg2
import pytest
from django.conf import settings

if not settings.APPROACH_HAS_READ_SIDE:
    pytest.skip(
        "read models are approach 5's: run under ARCHITECTURE_APPROACH=cqrs_es",
        allow_module_level=True,
    )

from django.core.management import CommandError, call_command  # noqa: E402
from django.db import connections, transaction  # noqa: E402

from customer_service.summaries.models import (  # noqa: E402
    CustomerSummary,
    SummaryOrder,
)
from customer_service.summaries.projections import PROJECTION_HANDLERS  # noqa: E402
from shared_events.consumer import apply_event  # noqa: E402
from shared_events.events import EventEnvelope, new_envelope  # noqa: E402
from shared_events.models import (  # noqa: E402
    AggregateCursor,
    ProcessedEvent,
    StoredEvent,
)
from shared_events.projectors import Projector  # noqa: E402
from shared_events.rebuild import (  # noqa: E402
    REBUILD_SCHEMA,
    RETIRED_SCHEMA,
    RebuildError,
    hold_read_model_swap_lock,
    rebuild_read_models,
)
from shared_events.routers import projecting  # noqa: E402
from stack.audit import (  # noqa: E402
    compare_rows,
    expected_customer_summaries,
    expected_summary_orders,
    fold_event_stores,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "read"])

CONSUMER = "customer-read"
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
STAMPS = {"last_event_id", "last_event_type", "last_event_occurred_at", "projected_at"}


# The story ------------------------------------------------------------------------


class Story:
    """Customers and their orders, told as two services' events."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.clock = T0
        self.versions: dict[UUID, int] = {}
        self.customer_events: list[EventEnvelope] = []
        self.order_events: list[EventEnvelope] = []
        self.live_customers: list[UUID] = []
        self.open_orders: dict[UUID, UUID] = {}
        self.registered = 0

    def _record(self, aggregate_type, aggregate_id, event_type, payload):
        self.versions[aggregate_id] = self.versions.get(aggregate_id, 0) + 1
        self.clock += timedelta(milliseconds=self.random.randint(1, 900))
        envelope = new_envelope(
            event_type=event_type,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            aggregate_version=self.versions[aggregate_id],
            producer=aggregate_type.lower(),
            payload=payload,
            occurred_at=self.clock,
        )
        target = (
            self.customer_events if aggregate_type == "Customer" else self.order_events
        )
        target.append(envelope)
        return envelope

    def register(self) -> EventEnvelope:
        customer_id, number = uuid4(), self.registered
        self.registered += 1
        self.live_customers.append(customer_id)
        return self._record(
            "Customer",
            customer_id,
            "CustomerRegistered",
            {
                "customer_id": str(customer_id),
                "name": f"Customer {number}",
                "email": f"customer{number}@example.com",
                "address": f"{number} Replay Road",
            },
        )

    def step(self) -> None:
        roll, pick = self.random.random(), self.random.choice
        if roll < 0.4 and self.live_customers:
            self._place(pick(self.live_customers))
        elif roll < 0.55 and self.open_orders:
            self._cancel(pick(sorted(self.open_orders)), "customer_request")
        elif roll < 0.8 and self.live_customers:
            customer_id = pick(self.live_customers)
            event_type, field = pick(
                [
                    ("CustomerRenamed", "name"),
                    ("CustomerEmailChanged", "email"),
                    ("CustomerAddressChanged", "address"),
                ]
            )
            value = f"{field} {self.random.randint(1, 10**6)}"
            if field == "email":
                value = f"changed{self.random.randint(1, 10**6)}@example.com"
            self._record(
                "Customer",
                customer_id,
                event_type,
                {"customer_id": str(customer_id), field: value},
            )
        elif roll < 0.9 and len(self.live_customers) > 2:
            customer_id = pick(self.live_customers)
            self.live_customers.remove(customer_id)
            self._record(
                "Customer",
                customer_id,
                "CustomerDeleted",
                {"customer_id": str(customer_id)},
            )
            for order_id, owner in sorted(self.open_orders.items()):
                if owner == customer_id:
                    self._cancel(order_id, "customer_deleted")
        else:
            self.register()

    def _place(self, customer_id: UUID) -> None:
        order_id = uuid4()
        lines = [
            {
                "sku": f"SKU-{self.random.randint(1, 50)}",
                "quantity": self.random.randint(1, 4),
                "unit_price": f"{self.random.randint(100, 9999) / 100:.2f}",
            }
            for _ in range(self.random.randint(1, 3))
        ]
        total = sum(Decimal(line["unit_price"]) * line["quantity"] for line in lines)
        self.open_orders[order_id] = customer_id
        self._record(
            "Order",
            order_id,
            "OrderPlaced",
            {
                "order_id": str(order_id),
                "customer_id": str(customer_id),
                "lines": lines,
                "total": f"{total:.2f}",
            },
        )

    def _cancel(self, order_id: UUID, reason: str) -> None:
        customer_id = self.open_orders.pop(order_id)
        self._record(
            "Order",
            order_id,
            "OrderCancelled",
            {
                "order_id": str(order_id),
                "customer_id": str(customer_id),
                "reason": reason,
            },
        )

    def arrival_order(self) -> list[EventEnvelope]:
        """Both services' events as a consumer might receive them.

        Each service's events keep their order (so every aggregate's
        versions do); how the two interleave is left to chance.
        """
        customer, order = list(self.customer_events), list(self.order_events)
        arrived = []
        while customer or order:
            take_customer = customer and (not order or self.random.random() < 0.5)
            arrived.append((customer if take_customer else order).pop(0))
        return arrived


def told(seed: int, *, customers: int, steps: int) -> Story:
    story = Story(seed)
    for _ in range(customers):
        story.register()
    for _ in range(steps):
        story.step()
    return story


# The two event stores -----------------------------------------------------------


def metadata(envelope: EventEnvelope) -> dict:
    return {
        "producer": envelope.producer,
        "correlation_id": str(envelope.correlation_id),
        "causation_id": None,
        "trace_context": envelope.trace_context,
    }


def store_customer_events(envelopes: list[EventEnvelope]) -> None:
    StoredEvent.objects.bulk_create(
        StoredEvent(
            event_id=envelope.event_id,
            aggregate_type=envelope.aggregate_type,
            aggregate_id=UUID(envelope.aggregate_id),
            aggregate_version=envelope.aggregate_version,
            event_type=envelope.event_type,
            occurred_at=envelope.occurred_at,
            payload=envelope.payload,
            metadata=metadata(envelope),
        )
        for envelope in envelopes
    )


def database_url(name: str) -> str:
    config = connections["default"].settings_dict
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    return (
        f"postgres://{config['USER']}{password}@{config['HOST'] or '127.0.0.1'}:"
        f"{config['PORT'] or 5432}/{name}"
    )


@pytest.fixture(scope="module")
def peer_url(django_db_blocker) -> Iterator[str]:
    """A stand-in for the order service's write database: its event store."""
    name = f"{connections['default'].settings_dict['NAME']}_peer{os.getpid()}"
    admin = psycopg2.connect(database_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE event_store (id bigint GENERATED BY DEFAULT AS IDENTITY "
            "PRIMARY KEY, event_id uuid UNIQUE NOT NULL, aggregate_type varchar(64) "
            "NOT NULL, aggregate_id uuid NOT NULL, aggregate_version integer NOT "
            "NULL, event_type varchar(100) NOT NULL, schema_version smallint NOT "
            "NULL, occurred_at timestamptz NOT NULL, recorded_at timestamptz NOT "
            "NULL DEFAULT now(), payload jsonb NOT NULL, metadata jsonb NOT NULL)"
        )
    connection.close()
    try:
        yield url
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def store_order_events(url: str, envelopes: list[EventEnvelope]) -> None:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        for envelope in envelopes:
            cursor.execute(
                "INSERT INTO event_store (event_id, aggregate_type, aggregate_id, "
                "aggregate_version, event_type, schema_version, occurred_at, "
                "payload, metadata) VALUES (%s, %s, %s, %s, %s, 1, %s, %s, %s)",
                [
                    str(envelope.event_id),
                    envelope.aggregate_type,
                    envelope.aggregate_id,
                    envelope.aggregate_version,
                    envelope.event_type,
                    envelope.occurred_at,
                    json.dumps(envelope.payload),
                    json.dumps(metadata(envelope)),
                ],
            )
    connection.close()


@pytest.fixture(autouse=True)
def clean_slate(peer_url):
    yield
    with psycopg2.connect(peer_url) as connection, connection.cursor() as cursor:
        cursor.execute("TRUNCATE event_store")
    connection.close()
    with connections["read"].cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {REBUILD_SCHEMA} CASCADE")
        cursor.execute(f"DROP SCHEMA IF EXISTS {RETIRED_SCHEMA} CASCADE")


# The live projection and what it leaves -------------------------------------------


def project_live(envelope: EventEnvelope) -> None:
    """What the read-side consumer does with one message."""
    with transaction.atomic(using="read"):
        hold_read_model_swap_lock(using="read")
        apply_event(
            consumer=CONSUMER,
            envelope=envelope,
            handlers=PROJECTION_HANDLERS.get(envelope.event_type, ()),
            database="read",
        )


def live_platform(peer_url: str, story: Story) -> None:
    store_customer_events(story.customer_events)
    store_order_events(peer_url, story.order_events)
    for envelope in story.arrival_order():
        project_live(envelope)


def read_side_state() -> dict:
    """Every row of the read side, but for the stamps of which event came last.

    Those record the interleaving of different aggregates' events, which a
    replay does not reproduce (see stack/audit.py).
    """

    def rows(model, key):
        names = [
            field.attname
            for field in model._meta.concrete_fields
            if field.attname not in STAMPS
        ]
        return {row[key]: row for row in model.objects.values(*names)}

    return {
        "summaries": rows(CustomerSummary, "customer_id"),
        "summary_orders": rows(SummaryOrder, "order_id"),
        "processed": set(
            ProcessedEvent.objects.using("read").values_list(
                "consumer",
                "event_id",
                "event_type",
                "aggregate_id",
                "aggregate_version",
                "occurred_at",
                "processed_at",
            )
        ),
        "cursors": set(
            AggregateCursor.objects.using("read").values_list(
                "consumer", "aggregate_type", "aggregate_id", "version"
            )
        ),
    }


def schema_names() -> dict:
    """Index and constraint names of the live read-side tables, and the schemas."""
    with connections["read"].cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public'"
        )
        indexes = set(cursor.fetchall())
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint c "
            "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'"
        )
        constraints = set(cursor.fetchall())
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname IN (%s, %s)",
                       [REBUILD_SCHEMA, RETIRED_SCHEMA])  # fmt: skip
        schemas = {row[0] for row in cursor.fetchall()}
    return {"indexes": indexes, "constraints": constraints, "schemas": schemas}


def rebuild(peer_url: str, **options):
    lines: list[str] = []
    result = rebuild_read_models(
        consumer=CONSUMER,
        handlers=options.pop("handlers", PROJECTION_HANDLERS),
        service="customer",
        peer_service="order",
        peer_database_url=peer_url,
        report=lines.append,
        **options,
    )
    return result, lines


# The tests ------------------------------------------------------------------------


def test_a_rebuild_ends_where_the_live_projection_is(peer_url):
    story = told(1, customers=8, steps=60)
    live_platform(peer_url, story)
    live = read_side_state()
    names = schema_names()
    # Then a bug (or a hand) breaks the live read model.
    victim = next(iter(live["summaries"]))
    with projecting("read"):
        CustomerSummary.objects.filter(customer_id=victim).update(name="Mallory")
        SummaryOrder.objects.filter(
            order_id=next(iter(live["summary_orders"]))
        ).delete()

    result, lines = rebuild(peer_url, batch_size=25, progress_every=30)

    events = len(story.customer_events) + len(story.order_events)
    assert result.applied == events and result.duplicates == 0
    assert read_side_state() == live
    assert schema_names() == names  # same index names; no rebuild or retired schema
    assert any("events replayed" in line for line in lines[1:])


def test_queries_never_fail_while_a_rebuild_runs_and_the_consumer_carries_on(peer_url):
    story = told(2, customers=10, steps=70)
    live_platform(peer_url, story)
    stop = threading.Event()
    errors: list[BaseException] = []
    counts = {"queries": 0, "projected": 0}

    def query_in_a_loop():
        try:
            while not stop.is_set():
                CustomerSummary.objects.count()
                list(CustomerSummary.objects.order_by("-lifetime_value")[:20])
                CustomerSummary.objects.filter(email="customer1@example.com").first()
                counts["queries"] += 1
                time.sleep(0.002)  # a busy API, not a busy loop hogging the GIL
        except BaseException as error:  # the test reports it
            errors.append(error)
        finally:
            connections.close_all()

    def consume_new_events():
        """The live read-side consumer, meanwhile: new customers keep coming."""
        try:
            while not stop.is_set():
                envelope = story.register()
                store_customer_events([envelope])
                project_live(envelope)
                counts["projected"] += 1
                time.sleep(0.01)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    def slowly(handlers):
        pause = [Projector(lambda envelope, rows: time.sleep(0.002))]
        return {
            event_type: [*listed, *pause] for event_type, listed in handlers.items()
        }

    threads = [
        threading.Thread(target=query_in_a_loop),
        threading.Thread(target=consume_new_events),
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.2)
        result, _ = rebuild(
            peer_url, batch_size=40, handlers=slowly(PROJECTION_HANDLERS)
        )
        queries_at_switch = counts["queries"]
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    assert errors == []
    assert queries_at_switch > 5 and counts["queries"] > queries_at_switch
    assert counts["projected"] > 5
    # Whatever the consumer projected before, during or after the switch is
    # there, and the rows are what the auditor's own fold of both stores says.
    fold = fold_event_stores(
        [database_url(connections["default"].settings_dict["NAME"]), peer_url]
    )
    assert ProcessedEvent.objects.using("read").count() == fold.events
    expected = expected_customer_summaries(fold)
    columns = list(next(iter(expected.values())))
    summaries = {
        str(row.pop("customer_id")): row
        for row in CustomerSummary.objects.values("customer_id", *columns)
    }
    assert compare_rows(table="summary", expected=expected, actual=summaries) == []
    orders = {
        str(row.pop("order_id")): {**row, "customer_id": str(row["customer_id"])}
        for row in SummaryOrder.objects.values(
            "order_id", "customer_id", "total", "status"
        )
    }
    expected = expected_summary_orders(fold)
    assert compare_rows(table="order", expected=expected, actual=orders) == []
    assert result.applied > 0


def test_an_interrupted_rebuild_resumes_where_it_stopped(peer_url):
    story = told(3, customers=6, steps=50)
    live_platform(peer_url, story)
    live = read_side_state()
    events = len(story.customer_events) + len(story.order_events)
    seen = []

    def power_cut(envelope, rows):
        seen.append(envelope.event_id)
        if len(seen) == 35:
            raise RuntimeError("power cut")

    fragile = {
        t: [Projector(power_cut), *listed] for t, listed in PROJECTION_HANDLERS.items()
    }

    with pytest.raises(RebuildError, match="power cut"):
        rebuild(peer_url, batch_size=10, handlers=fragile)

    # Three batches of ten made it; the live read models never noticed.
    assert read_side_state() == live
    with connections["read"].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {REBUILD_SCHEMA}.event_processed")
        assert cursor.fetchone()[0] == 30
        cursor.execute(f"SELECT sum(position) > 0 FROM {REBUILD_SCHEMA}.progress")
        assert cursor.fetchone()[0] is True
    with pytest.raises(RebuildError, match="--resume"):
        rebuild(peer_url)

    output = io.StringIO()
    call_command(
        "rebuild_read_models",
        "--resume",
        "--batch-size",
        "10",
        "--progress-every",
        "10",
        "--peer-database-url",
        peer_url,
        stdout=output,
    )

    text = output.getvalue()
    assert "resuming the rebuild" in text
    assert f"{events - 30} events replayed in" in text.splitlines()[-1]
    assert read_side_state() == live
    assert schema_names()["schemas"] == set()


def test_the_command_refuses_contradictory_options(peer_url):
    with pytest.raises(CommandError, match="contradict"):
        call_command(
            "rebuild_read_models",
            "--resume",
            "--restart",
            "--peer-database-url",
            peer_url,
        )

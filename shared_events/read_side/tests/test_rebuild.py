"""Rebuilding the customer service's read models by replay, under approach 5.

Run in a pytest process of its own, under cqrs_es::

    ARCHITECTURE_APPROACH=cqrs_es DATABASE_NAME_PREFIX=rebuildhelper_ \\
        .venv/bin/python -m pytest shared_events/read_side/tests/test_rebuild.py \\
        --ds=customer_service.config.settings

Each test tells a story as events: the customer events in the service's own
event store, the order events in a stand-in for the order service's write
database. The live read model is what the read-side consumer's code path
(``apply_event`` with ``PROJECTION_HANDLERS``) makes of them, arriving in a
shuffled order; the rebuild must end where the live projection is.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Iterator
from uuid import UUID

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
from observe.audit import (  # noqa: E402
    compare_rows,
    expected_customer_summaries,
    expected_summary_orders,
    fold_event_stores,
)
from shared_events.consume import (
    apply_event,  # noqa: E402
    projecting,  # noqa: E402
)
from shared_events.events import EventEnvelope  # noqa: E402
from shared_events.models import (  # noqa: E402
    AggregateCursor,
    ProcessedEvent,
    StoredEvent,
    columns_of,
)
from shared_events.read_side.projectors import Projector  # noqa: E402
from shared_events.read_side.rebuild import (
    REBUILD_SCHEMA,
    RETIRED_SCHEMA,
    RebuildError,
    hold_read_model_swap_lock,
    rebuild_read_models,
)
from shared_events.testing.peer_event_store import (  # noqa: E402
    database_url,
    empty_peer,
    peer_event_store,
    store_in_peer,
    stored_metadata,
)
from shared_events.testing.stories import Story, told  # noqa: E402
from shared_events.transport.topology import tracking_name  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "read"])

# The live read-side consumer's name: the command rebuilds under the same one.
CONSUMER = tracking_name("customer-read")
STAMPS = {"last_event_id", "last_event_type", "last_event_occurred_at", "projected_at"}


# The two event stores -----------------------------------------------------------


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
            metadata=stored_metadata(envelope),
        )
        for envelope in envelopes
    )


@pytest.fixture(scope="module")
def peer_url(django_db_blocker) -> Iterator[str]:
    """A stand-in for the order service's write database: its event store."""
    with peer_event_store(f"peer{os.getpid()}") as url:
        yield url


@pytest.fixture(autouse=True)
def clean_slate(peer_url):
    yield
    empty_peer(peer_url)
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
    store_in_peer(peer_url, story.order_events)
    for envelope in story.arrival_order():
        project_live(envelope)


def read_side_state() -> dict:
    """Every row of the read side, but for the stamps of which event came last.

    Those record the interleaving of different aggregates' events, which a
    replay does not reproduce (see observe/audit/).
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
                *columns_of(ProcessedEvent)
            )
        ),
        "cursors": set(
            AggregateCursor.objects.using("read").values_list(
                *columns_of(AggregateCursor, without=("updated_at",))
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
    # Under the live projector's name: it goes on from the rebuilt cursors
    # instead of finding every rebuilt aggregate at version 0.
    assert set(
        ProcessedEvent.objects.using("read").values_list("consumer", flat=True)
    ) == {tracking_name("customer-read")}
    assert set(
        AggregateCursor.objects.using("read").values_list("consumer", flat=True)
    ) == {tracking_name("customer-read")}
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


def test_a_handler_that_is_not_a_projector_is_refused_before_anything_changes(
    peer_url,
):
    story = told(4, customers=3, steps=10)
    live_platform(peer_url, story)
    live = read_side_state()

    def writes_on_its_own(envelope):
        raise AssertionError("never called: the rebuild refuses it first")

    handlers = {
        **PROJECTION_HANDLERS,
        "CustomerRenamed": [*PROJECTION_HANDLERS["CustomerRenamed"], writes_on_its_own],
    }
    with pytest.raises(RebuildError, match="not a Projector"):
        rebuild(peer_url, handlers=handlers)

    assert read_side_state() == live
    assert schema_names()["schemas"] == set()

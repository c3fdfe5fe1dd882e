"""The switch: the rebuilt tables take the live ones' place, in one transaction.

Under the swap lock (exclusive; the live read-side consumer holds it shared,
``shared_events.consume.projection_guard``) the last events are replayed, any event
the live consumer applied and the rebuild did not is replayed too, and the
tables change schema: live to ``retired``, rebuilt to ``public``.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import OperationalError, connections, transaction

from shared_events.consume import SWAP_LOCK
from shared_events.models import ProcessedEvent
from shared_events.read_side.bulk_writes import quote
from shared_events.read_side.rebuild.replay import ReplayRun, apply_rows, replay_pass
from shared_events.read_side.rebuild.schema import (
    REBUILD_ALIAS,
    REBUILD_SCHEMA,
    RETIRED_SCHEMA,
    RebuildError,
    schema_exists,
)

SWITCH_ATTEMPTS = 5


def _reconcile_with_live(run: ReplayRun) -> int:
    """Replay every event the live consumer applied that the rebuild has not.

    Runs under the swap lock, when the live tables cannot change. Usually
    there is nothing to do; an event whose id was given up as a hole, and
    committed after all, would be found here.
    """
    processed = ProcessedEvent._meta.db_table
    with connections[REBUILD_ALIAS].cursor() as cursor:
        cursor.execute(
            f"SELECT live.event_id FROM public.{processed} live "
            "WHERE live.consumer = %s AND NOT EXISTS (SELECT 1 FROM "
            f"{REBUILD_SCHEMA}.{processed} rebuilt WHERE rebuilt.consumer = "
            "live.consumer AND rebuilt.event_id = live.event_id)",
            [run.consumer],
        )
        missing = [row[0] for row in cursor.fetchall()]
    if not missing:
        return 0
    rows = sorted(
        (row for source in run.sources for row in source.rows_with_event_ids(missing)),
        key=lambda row: row.order_key,
    )
    if len(rows) < len(missing):
        raise RebuildError(
            f"{len(missing) - len(rows)} events the live read model applied are in "
            "neither event store; not switching, the live read models stay"
        )
    pending = rows
    while pending:
        with transaction.atomic(using=REBUILD_ALIAS):
            held = apply_rows(run, pending)
        if len(held) == len(pending):
            raise RebuildError(
                f"{len(pending)} events the live read model applied cannot be "
                "replayed in order; not switching, the live read models stay"
            )
        pending = held
    return len(rows)


def carry_over_processed_at(run: ReplayRun) -> None:
    processed = ProcessedEvent._meta.db_table
    with connections[REBUILD_ALIAS].cursor() as cursor:
        cursor.execute(
            f"UPDATE {REBUILD_SCHEMA}.{processed} rebuilt "
            "SET processed_at = live.processed_at "
            f"FROM public.{processed} live WHERE live.consumer = rebuilt.consumer "
            "AND live.event_id = rebuilt.event_id "
            "AND live.processed_at <> rebuilt.processed_at",
        )


def switch_tables(
    run: ReplayRun, *, tables: Sequence[str], lock_timeout: float
) -> None:
    """Catch up the last events and swap the tables, all under the swap lock."""
    with transaction.atomic(using=REBUILD_ALIAS):
        with connections[REBUILD_ALIAS].cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout * 1000)}ms'")
            cursor.execute("SET LOCAL synchronous_commit = on")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SWAP_LOCK])
            # A safety net for a consumer that does not take the swap lock: it
            # now waits at its first write. Plain queries still read.
            live = ", ".join(f"public.{quote(table)}" for table in tables)
            cursor.execute(f"LOCK TABLE {live} IN EXCLUSIVE MODE")
        replay_pass(run)
        run.result.reconciled += _reconcile_with_live(run)
        carry_over_processed_at(run)
        with connections[REBUILD_ALIAS].cursor() as cursor:
            if schema_exists(cursor, RETIRED_SCHEMA):
                raise RebuildError(
                    f"a schema named {RETIRED_SCHEMA!r} exists in the read database; "
                    "the switch needs that name"
                )
            moves = [f"CREATE SCHEMA {RETIRED_SCHEMA}"]
            for table in tables:
                moves += [
                    f"ALTER TABLE public.{quote(table)} SET SCHEMA {RETIRED_SCHEMA}",
                    f"ALTER TABLE {REBUILD_SCHEMA}.{quote(table)} SET SCHEMA public",
                ]
            moves += [
                f"DROP SCHEMA {RETIRED_SCHEMA} CASCADE",
                f"DROP SCHEMA {REBUILD_SCHEMA} CASCADE",
            ]
            # One round trip: queries wait for the switch as briefly as can be.
            cursor.execute("; ".join(moves))


def lock_timed_out(error: OperationalError) -> bool:
    return getattr(error.__cause__, "pgcode", None) == "55P03"

"""Rebuild a service's read models by replaying every event, while queries go on.

A read model is only a cache of the events: drop it, replay the events
through the same projection handlers, and the same rows come back. This
module does that without a moment in which the query API has nothing to
read. What a learner should notice, step by step:

1. **Fresh tables beside the live ones.** In the read database a schema
   ``rebuild`` gets a copy of every read-model table and of the read side's
   tracking tables (``event_processed``, ``event_aggregate_cursor``):
   ``CREATE TABLE rebuild.x (LIKE public.x INCLUDING ALL)``, with indexes and
   constraints renamed to the live tables' names, so the migrations still
   find them after the switch. Queries keep reading ``public``, and the live
   read-side consumer keeps projecting there, the whole time.
2. **The same projections, in bulk.** A second Django connection to the
   read database (alias ``read_model_rebuild``) has
   ``search_path=rebuild,public``. The events are replayed in chunks of
   ``batch_size``, one transaction each, by the same fold functions the live
   consumer runs (the service's ``PROJECTION_HANDLERS``, each a
   ``shared_events.projectors.Projector``) under the read-side consumer's own
   name, so the processed-event records and cursors are rebuilt too: after
   the switch, a redelivered event is a duplicate. Nobody else writes the
   ``rebuild`` tables, so the per-event locks and round trips of
   ``apply_event`` are left out: each chunk is loaded with a query per
   table, folded in memory and written with one multi-row statement per
   table (``shared_events.bulk_projection``); duplicates are skipped and an
   event ahead of its aggregate is held, as the live consumer would.
   (``django_migrations`` and every other table stay in ``public``.)
3. **The replay source: both event stores.** A customer summary needs the
   order service's events and an order view the customer service's, so the
   replay reads the service's own event store and, through a read-only
   connection, the peer's (its write database, the URL its settings would
   use). In production the peer's events would come from an archived stream
   (a Kinesis stream or its S3 archive); reading another service's database
   is tolerable here only because it is read-only and only for a replay.
   Events are merged by ``(occurred_at, id)`` across the two stores; within
   one store they stay in id order, which keeps each aggregate's versions in
   order.
4. **Catch-up.** Passes repeat until one replays (almost) nothing new. Ids
   are taken at insert, not at commit, so a lower id can still appear after
   a higher one: a replay position only moves past an id once it has been
   replayed, or once every transaction that could still commit it has ended
   (``pg_stat_activity`` says which were writing; a rolled-back insert leaves
   a hole for good).
5. **The switch, in one short transaction.** Take the swap lock (a
   PostgreSQL advisory lock, exclusive), replay the few events that arrived
   since the last pass, replay any event the live consumer applied that the
   rebuild has not (so the switch can lose nothing), then move the live
   tables to a schema ``retired``, the rebuilt ones to ``public``
   (``ALTER TABLE ... SET SCHEMA``) and drop ``retired``. A query that
   arrives meanwhile waits a few milliseconds and reads the new tables.
   The live read-side consumer takes the same lock, shared, at the start of
   each message's transaction (:func:`hold_read_model_swap_lock`), so no
   message is applied half to the old tables and half to the new.
6. **Resume.** The replay positions are kept in ``rebuild.progress``, in the
   same transaction as the events they cover. An interrupted rebuild leaves
   ``rebuild`` as it is; ``--resume`` carries on from there. That is also
   why a chunk's commit does not wait for the disk (``synchronous_commit``
   off, for the rebuild's connection only): a crash loses at most the last
   chunks together with their progress, and the resume replays them. The
   switch's commit waits.

``processed_at`` of an event the live consumer had already applied is
carried over into the rebuilt tracking table, so the lag measured after a
rebuild is still the live pipeline's, not the replay's.
"""

from __future__ import annotations

import copy
import heapq
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import environ
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, OperationalError, connections, transaction
from django.db.utils import load_backend

from shared_events.events import EventEnvelope, is_traceparent, new_trace_context
from shared_events.models import AggregateCursor, ProcessedEvent
from shared_events.projectors import NotBulkProjectable, Projector, require_projectors

REBUILD_SCHEMA = "rebuild"
RETIRED_SCHEMA = "retired"
REBUILD_ALIAS = "read_model_rebuild"
REPLAY_SOURCE_ALIAS = "read_model_replay_source"

# Advisory lock keys (any two 64-bit numbers the platform uses for nothing
# else): one for the switch, one so that two rebuilds never run at once.
SWAP_LOCK = 0x52454144_4D4F4431
RUN_LOCK = 0x52454144_4D4F4432

# A pass that replays no more than this many events is "caught up": the rest
# is replayed inside the switch's transaction, while the consumer waits.
FINAL_STEP_LIMIT = 50
SWITCH_ATTEMPTS = 5
# Should events arrive faster than they are replayed, switch anyway after
# this many passes: the switch replays the rest while the consumer waits.
MAX_CATCH_UP_PASSES = 100

Report = Callable[[str], None]


class RebuildError(RuntimeError):
    """The rebuild stopped; the live read models are untouched."""


def hold_read_model_swap_lock(*, using: str) -> None:
    """Wait while a rebuild switches tables; the read-side consumer's one line.

    Call it first thing inside each message's transaction on the read
    database. It takes the swap lock shared: consumers never wait for one
    another, only for the few milliseconds of a switch.
    """
    if using == "default":
        return  # the write side has no read models to switch
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [SWAP_LOCK])


# Reading the event stores --------------------------------------------------------

SELECT_EVENTS = (
    "SELECT id, event_id, aggregate_type, aggregate_id, aggregate_version, "
    "event_type, schema_version, occurred_at, payload, metadata FROM event_store "
)


@dataclass(frozen=True)
class StoredRow:
    source: ReplaySource
    id: int
    event_id: UUID
    aggregate_type: str
    aggregate_id: UUID
    aggregate_version: int
    event_type: str
    schema_version: int
    occurred_at: datetime
    payload: Any
    metadata: Any

    @property
    def order_key(self) -> tuple:
        return (self.occurred_at, self.source.rank, self.id)

    def envelope(self) -> EventEnvelope:
        """The event as the producer published it (the outbox wrote the same)."""
        metadata = _json(self.metadata) or {}
        correlation_id = metadata.get("correlation_id")
        causation_id = metadata.get("causation_id")
        fields = {
            "event_id": _uuid(self.event_id),
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "aggregate_type": self.aggregate_type,
            "aggregate_id": str(self.aggregate_id),
            "aggregate_version": self.aggregate_version,
            "occurred_at": self.occurred_at,
            "producer": metadata.get("producer") or self.source.service,
            "correlation_id": (
                _uuid(correlation_id) if correlation_id else _uuid(self.event_id)
            ),
            "causation_id": _uuid(causation_id) if causation_id else None,
            "payload": _json(self.payload),
        }
        trace_context = metadata.get("trace_context")
        if not (
            isinstance(trace_context, Mapping)
            and is_traceparent(trace_context.get("traceparent"))
        ):
            # An old row without a valid traceparent: the replay is a new trace.
            trace_context = new_trace_context()
        return EventEnvelope(trace_context=trace_context, **fields)


def _json(value: Any) -> Any:
    # Django reads jsonb as text; plain psycopg2 as Python values.
    return json.loads(value) if isinstance(value, str) else value


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


@dataclass(eq=False)
class ReplaySource:
    """One event store and how far the rebuild has replayed it.

    ``position``: every id up to it has been replayed, or is a hole for good.
    Above it, ``done`` holds ids replayed and ``unresolved`` ids read but not
    applied yet (in flight, or held back for an earlier version).

    A hole is an id below one already seen that was never seen itself: a
    transaction took it and has not committed yet, or rolled back. Which of
    the two? Once every transaction that was writing to the database when
    the hole was noticed has ended, it stays a hole for good (``gap`` = the
    highest id it covers, and those transactions).
    """

    service: str
    alias: str
    rank: int
    position: int = 0
    max_seen: int = 0
    done: set[int] = field(default_factory=set)
    unresolved: set[int] = field(default_factory=set)
    writers_at_read: frozenset[str] = frozenset()
    gap: tuple[int, frozenset[str]] | None = None

    def _fetch(self, statement: str, params: Sequence[Any]) -> list[StoredRow]:
        with connections[self.alias].cursor() as cursor:
            cursor.execute(SELECT_EVENTS + statement, params)
            rows = [StoredRow(self, *row) for row in cursor.fetchall()]
        if rows:
            # Only these may still commit an id below what was just read. (A
            # read of nothing reveals no new hole: the last set still holds.)
            self.writers_at_read = self._writers()
        return rows

    def _writers(self) -> frozenset[str]:
        """The transactions writing to this database now (those with an xid)."""
        with connections[self.alias].cursor() as cursor:
            cursor.execute(
                "SELECT backend_xid::text FROM pg_stat_activity "
                "WHERE datname = current_database() AND backend_xid IS NOT NULL"
            )
            return frozenset(row[0] for row in cursor.fetchall())

    def stream(self, batch_size: int) -> Iterator[StoredRow]:
        """Every event after ``position`` not replayed yet, in id order."""
        after = self.position
        while True:
            rows = self._fetch(
                "WHERE id > %s ORDER BY id LIMIT %s", [after, batch_size]
            )
            for row in rows:
                self.max_seen = max(self.max_seen, row.id)
                if row.id not in self.done:
                    self.unresolved.add(row.id)
                    yield row
            if len(rows) < batch_size:
                return
            after = rows[-1].id

    def rows_with_event_ids(self, event_ids: Sequence[UUID]) -> list[StoredRow]:
        return self._fetch(
            "WHERE event_id = ANY(%s::uuid[]) ORDER BY id",
            [[str(e) for e in event_ids]],
        )

    def mark_done(self, row_id: int) -> None:
        self.unresolved.discard(row_id)
        if row_id > self.position:
            self.done.add(row_id)

    def advance(self) -> None:
        """Move ``position`` over what is replayed and over holes for good."""
        while True:
            candidate = self.position + 1
            if candidate in self.done:
                self.done.discard(candidate)
                self.position, self.gap = candidate, None
                continue
            if candidate > self.max_seen or candidate in self.unresolved:
                return
            if self.gap is None:
                self.gap = (self.max_seen, self.writers_at_read)
            covers, writers = self.gap
            if writers and writers & self._writers():
                return  # the hole may still be filled
            known = [i for i in (*self.done, *self.unresolved) if i > self.position]
            self.position = min(min(known, default=covers + 1) - 1, covers)
            self.gap = None


# The rebuild's tables ------------------------------------------------------------


def read_model_tables() -> list[str]:
    """The tables a rebuild replaces: the read models and the consumer's tracking."""
    tables = []
    for label in sorted(getattr(settings, "READ_MODEL_APPS", ())):
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models(include_auto_created=True):
            if model._meta.managed and not model._meta.proxy:
                tables.append(model._meta.db_table)
    return tables + [ProcessedEvent._meta.db_table, AggregateCursor._meta.db_table]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _schema_exists(cursor, schema: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
    return cursor.fetchone() is not None


def _constraints(
    cursor, schema: str, tables: Sequence[str]
) -> dict[str, list[tuple[str, str, str]]]:
    """Each table's constraints: name, kind, definition."""
    cursor.execute(
        "SELECT t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = %s AND t.relname = ANY(%s) "
        "AND c.contype IN ('p','u','x','f') ORDER BY c.conname",
        [schema, list(tables)],
    )
    found: dict[str, list[tuple[str, str, str]]] = {table: [] for table in tables}
    for table, *constraint in cursor.fetchall():
        found[table].append(tuple(constraint))
    return found


INDEX_NAME = re.compile(r"^(CREATE (?:UNIQUE )?INDEX) \S+ ON (ONLY )?\S+? USING")


def _plain_indexes(
    cursor, schema: str, tables: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """Indexes that back no constraint, with their definition minus name and schema."""
    cursor.execute(
        "SELECT t.relname, i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_class t ON t.oid = x.indrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = %s AND t.relname = ANY(%s) AND NOT EXISTS ("
        "  SELECT 1 FROM pg_constraint c WHERE c.conrelid = t.oid "
        "  AND c.conindid = i.oid AND c.contype IN ('p','u','x')) "
        "ORDER BY i.relname",
        [schema, list(tables)],
    )
    found: dict[str, list[tuple[str, str]]] = {table: [] for table in tables}
    for table, name, definition in cursor.fetchall():
        found[table].append((name, INDEX_NAME.sub(r"\1 ON \2USING", definition)))
    return found


def _rename_like_live(cursor, tables: Sequence[str]) -> None:
    """Give the copies' constraints and indexes the live tables' names."""
    live_constraints = _constraints(cursor, "public", tables)
    copied_constraints = _constraints(cursor, REBUILD_SCHEMA, tables)
    live_indexes = _plain_indexes(cursor, "public", tables)
    copied_indexes = _plain_indexes(cursor, REBUILD_SCHEMA, tables)
    renames: list[str] = []
    for table in tables:
        live = live_constraints[table]
        if any(kind == "f" for _, kind, _ in live):
            raise RebuildError(
                f"{table} has a foreign key, which a copy made with LIKE would not "
                "keep; read models should not have any"
            )
        for name, kind, definition in copied_constraints[table]:
            match = next((c for c in live if c[1:] == (kind, definition)), None)
            if match is None:
                continue
            live.remove(match)
            if match[0] != name:
                renames.append(
                    f"ALTER TABLE {REBUILD_SCHEMA}.{_quote(table)} RENAME CONSTRAINT "
                    f"{_quote(name)} TO {_quote(match[0])}"
                )
        indexes = live_indexes[table]
        for name, definition in copied_indexes[table]:
            match = next((i for i in indexes if i[1] == definition), None)
            if match is None:
                continue
            indexes.remove(match)
            if match[0] != name:
                renames.append(
                    f"ALTER INDEX {REBUILD_SCHEMA}.{_quote(name)} RENAME TO "
                    f"{_quote(match[0])}"
                )
    if renames:
        cursor.execute("; ".join(renames))


def _create_rebuild_schema(cursor, *, tables: Sequence[str]) -> None:
    # The DDL goes in as few round trips as it can: a rebuild of a small read
    # model is mostly this and the switch.
    cursor.execute(
        "; ".join(
            [
                f"CREATE SCHEMA {REBUILD_SCHEMA}",
                f"COMMENT ON SCHEMA {REBUILD_SCHEMA} IS 'read models being rebuilt "
                "by rebuild_read_models; dropped at the switch'",
                f"CREATE TABLE {REBUILD_SCHEMA}.progress ("
                "source varchar(64) PRIMARY KEY, consumer varchar(64) NOT NULL, "
                "position bigint NOT NULL DEFAULT 0, "
                "started_at timestamptz NOT NULL DEFAULT now(), "
                "updated_at timestamptz NOT NULL DEFAULT now())",
                *(
                    f"CREATE TABLE {REBUILD_SCHEMA}.{_quote(table)} "
                    f"(LIKE public.{_quote(table)} INCLUDING ALL)"
                    for table in tables
                ),
            ]
        )
    )
    _rename_like_live(cursor, tables)


# The run -------------------------------------------------------------------------


@dataclass
class RebuildResult:
    applied: int = 0
    duplicates: int = 0
    passes: int = 0
    reconciled: int = 0
    still_held: int = 0
    resumed_from: dict[str, int] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        text = (
            f"{self.applied} events replayed in {self.passes} passes "
            f"({self.duplicates} already there) in {self.seconds:.1f} s; "
            "switched to the rebuilt read models"
        )
        if self.reconciled:
            text += f"; {self.reconciled} taken over from the live consumer"
        return text


@dataclass
class _Run:
    consumer: str
    handlers: Mapping[str, Sequence[Projector]]
    sources: list[ReplaySource]
    batch_size: int
    progress_every: int
    report: Report
    result: RebuildResult = field(default_factory=RebuildResult)
    next_report: int = 0


def _replay_pass(run: _Run) -> int:
    """Replay what the sources hold beyond their positions; the number applied."""
    applied_before = run.result.applied
    merged = heapq.merge(
        *(source.stream(run.batch_size) for source in run.sources),
        key=lambda row: row.order_key,
    )
    chunk: list[StoredRow] = []
    for row in merged:
        chunk.append(row)
        if len(chunk) >= run.batch_size:
            _apply_chunk(run, chunk)
            chunk = []
    _apply_chunk(run, chunk)
    run.result.passes += 1
    return run.result.applied - applied_before


def _apply_rows(run: _Run, rows: Sequence[StoredRow]) -> list[StoredRow]:
    """Apply events in bulk, in the caller's transaction; those held back.

    The same folds and the same ordering rule as the live consumer's
    ``apply_event``, for the whole chunk at once (``shared_events.bulk_projection``):
    nobody else writes the rebuild's tables, so nothing needs locking.
    """
    from shared_events.bulk_projection import BulkProjection  # consumer imports us
    from shared_events.consumer import Outcome

    envelopes = [row.envelope() for row in rows]
    chunk = BulkProjection(
        consumer=run.consumer, handlers=run.handlers, database=REBUILD_ALIAS
    )
    chunk.load(envelopes)
    held = []
    for row, envelope in zip(rows, envelopes, strict=True):
        try:
            outcome = chunk.apply(envelope)
        except Exception as error:
            raise RebuildError(
                f"projecting {row.event_type} {row.event_id} ({row.source.service} "
                f"event store id {row.id}) failed: {error.__class__.__name__}: "
                f"{error}; fix it, then run again with --resume"
            ) from error
        if outcome is Outcome.HELD:
            held.append(row)
            continue
        row.source.mark_done(row.id)
        if outcome is Outcome.APPLIED:
            run.result.applied += 1
        else:
            run.result.duplicates += 1
    try:
        chunk.flush()
    except OperationalError:
        raise  # the connection or a lock, not the events: the caller decides
    except DatabaseError as error:
        raise RebuildError(
            f"writing {len(rows)} replayed events (event store ids "
            f"{rows[0].id}-{rows[-1].id}) failed: {error.__class__.__name__}: "
            f"{error}; fix it, then run again with --resume"
        ) from error
    return held


def _apply_chunk(run: _Run, rows: Sequence[StoredRow]) -> None:
    """One transaction: the events, then the positions they leave."""
    positions = [source.position for source in run.sources]
    with transaction.atomic(using=REBUILD_ALIAS):
        if rows:
            _apply_rows(run, rows)
        for source in run.sources:
            source.advance()
        moved = [
            s for s, p in zip(run.sources, positions, strict=True) if s.position != p
        ]
        with connections[REBUILD_ALIAS].cursor() as cursor:
            for source in moved:
                cursor.execute(
                    f"UPDATE {REBUILD_SCHEMA}.progress SET position = %s, "
                    "updated_at = now() WHERE source = %s",
                    [source.position, source.service],
                )
    done = run.result.applied + run.result.duplicates
    if run.progress_every and done >= run.next_report:
        positions = ", ".join(f"{s.service} at id {s.position}" for s in run.sources)
        run.report(
            f"{run.result.applied} events replayed, {run.result.duplicates} already "
            f"there ({positions})"
        )
        run.next_report = done + run.progress_every


def _reconcile_with_live(run: _Run) -> int:
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
            held = _apply_rows(run, pending)
        if len(held) == len(pending):
            raise RebuildError(
                f"{len(pending)} events the live read model applied cannot be "
                "replayed in order; not switching, the live read models stay"
            )
        pending = held
    return len(rows)


def _carry_over_processed_at(run: _Run) -> None:
    processed = ProcessedEvent._meta.db_table
    with connections[REBUILD_ALIAS].cursor() as cursor:
        cursor.execute(
            f"UPDATE {REBUILD_SCHEMA}.{processed} rebuilt "
            "SET processed_at = live.processed_at "
            f"FROM public.{processed} live WHERE live.consumer = rebuilt.consumer "
            "AND live.event_id = rebuilt.event_id "
            "AND live.processed_at <> rebuilt.processed_at",
        )


def _switch(run: _Run, *, tables: Sequence[str], lock_timeout: float) -> None:
    """Catch up the last events and swap the tables, all under the swap lock."""
    with transaction.atomic(using=REBUILD_ALIAS):
        with connections[REBUILD_ALIAS].cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout * 1000)}ms'")
            cursor.execute("SET LOCAL synchronous_commit = on")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SWAP_LOCK])
            # A safety net for a consumer that does not take the swap lock: it
            # now waits at its first write. Plain queries still read.
            live = ", ".join(f"public.{_quote(table)}" for table in tables)
            cursor.execute(f"LOCK TABLE {live} IN EXCLUSIVE MODE")
        _replay_pass(run)
        run.result.reconciled += _reconcile_with_live(run)
        _carry_over_processed_at(run)
        with connections[REBUILD_ALIAS].cursor() as cursor:
            if _schema_exists(cursor, RETIRED_SCHEMA):
                raise RebuildError(
                    f"a schema named {RETIRED_SCHEMA!r} exists in the read database; "
                    "the switch needs that name"
                )
            moves = [f"CREATE SCHEMA {RETIRED_SCHEMA}"]
            for table in tables:
                moves += [
                    f"ALTER TABLE public.{_quote(table)} SET SCHEMA {RETIRED_SCHEMA}",
                    f"ALTER TABLE {REBUILD_SCHEMA}.{_quote(table)} SET SCHEMA public",
                ]
            moves += [
                f"DROP SCHEMA {RETIRED_SCHEMA} CASCADE",
                f"DROP SCHEMA {REBUILD_SCHEMA} CASCADE",
            ]
            # One round trip: queries wait for the switch as briefly as can be.
            cursor.execute("; ".join(moves))


def _lock_timed_out(error: OperationalError) -> bool:
    return getattr(error.__cause__, "pgcode", None) == "55P03"


@contextmanager
def _extra_connection(alias: str, settings_dict: dict) -> Iterator[None]:
    """A database alias for this thread and this run only, closed afterwards.

    Not added to ``settings.DATABASES``: nothing else (``connections.all()``,
    migrate, the test runner) should ever see it.
    """
    configured = connections.configure_settings({"default": settings_dict})["default"]
    connections[alias] = load_backend(configured["ENGINE"]).DatabaseWrapper(
        configured, alias
    )
    try:
        yield
    finally:
        connections[alias].close()
        del connections[alias]


def _rebuild_connection_settings(read_database: str) -> dict:
    settings_dict = copy.deepcopy(connections[read_database].settings_dict)
    options = dict(settings_dict.get("OPTIONS") or {})
    # A replayed chunk need not wait for the disk: a crash loses at most the
    # last chunks and their progress with them, and --resume replays those.
    # The switch waits (see _switch).
    options["options"] = (
        f"{options.get('options', '')} -c search_path={REBUILD_SCHEMA},public "
        "-c synchronous_commit=off"
    ).strip()
    settings_dict["OPTIONS"] = options
    settings_dict["CONN_MAX_AGE"] = 0
    return settings_dict


def _source_connection_settings(url: str) -> dict:
    settings_dict = environ.Env.db_url_config(url)
    options = dict(settings_dict.get("OPTIONS") or {})
    options["options"] = "-c default_transaction_read_only=on"
    options.setdefault("connect_timeout", 5)
    settings_dict["OPTIONS"] = options
    return settings_dict


def _load_or_create_schema(
    run: _Run, *, tables: Sequence[str], resume: bool, restart: bool
) -> None:
    with (
        transaction.atomic(using=REBUILD_ALIAS),
        connections[REBUILD_ALIAS].cursor() as cursor,
    ):
        cursor.execute(
            "SELECT array_agg(wanted) FROM unnest(%s::text[]) wanted "
            "WHERE to_regclass('public.' || quote_ident(wanted)) IS NULL",
            [list(tables)],
        )
        absent = cursor.fetchone()[0]
        if absent:
            raise RebuildError(
                f"the read database has no {', '.join(absent)}: migrate it first "
                "(manage.py --service X migrate --database read)"
            )
        if _schema_exists(cursor, RETIRED_SCHEMA):
            raise RebuildError(
                f"a schema named {RETIRED_SCHEMA!r} exists in the read database; "
                "the switch needs that name"
            )
        exists = _schema_exists(cursor, REBUILD_SCHEMA)
        if exists and restart:
            run.report("dropping the half-done rebuild (--restart)")
            cursor.execute(f"DROP SCHEMA {REBUILD_SCHEMA} CASCADE")
            exists = False
        if exists and not resume:
            raise RebuildError(
                f"a half-done rebuild is in schema {REBUILD_SCHEMA!r}: continue it "
                "with --resume, or start again with --restart"
            )
        if not exists:
            if resume:
                run.report("nothing to resume: starting a new rebuild")
            _create_rebuild_schema(cursor, tables=tables)
        cursor.execute(
            "SELECT source, consumer, position, started_at "
            f"FROM {REBUILD_SCHEMA}.progress"
        )
        stored = {row[0]: row[1:] for row in cursor.fetchall()}
        begun = None
        for source in run.sources:
            if source.service in stored:
                consumer, position, begun = stored[source.service]
                if consumer != run.consumer:
                    raise RebuildError(
                        f"the half-done rebuild is {consumer}'s, not {run.consumer}'s"
                    )
                source.position = source.max_seen = position
                run.result.resumed_from[source.service] = position
            else:
                cursor.execute(
                    f"INSERT INTO {REBUILD_SCHEMA}.progress (source, consumer) "
                    "VALUES (%s, %s)",
                    [source.service, run.consumer],
                )
    if run.result.resumed_from and any(run.result.resumed_from.values()):
        positions = ", ".join(
            f"{service} after id {position}"
            for service, position in run.result.resumed_from.items()
        )
        run.report(
            f"resuming the rebuild begun at {begun:%Y-%m-%d %H:%M:%S}: {positions}"
        )


def rebuild_read_models(
    *,
    consumer: str,
    handlers: Mapping[str, Sequence[Projector]],
    service: str,
    peer_service: str,
    peer_database_url: str,
    read_database: str = "read",
    resume: bool = False,
    restart: bool = False,
    batch_size: int = 500,
    progress_every: int = 1000,
    lock_timeout: float = 5.0,
    report: Report = print,
) -> RebuildResult:
    """Replay both services' events into fresh read-model tables and switch to them.

    ``consumer`` is the read-side consumer's name (``"customer-read"``), so
    the rebuilt tracking tables are the ones it will use; ``handlers`` its
    ``PROJECTION_HANDLERS``. The service's own event store is read through
    ``default``, the peer's through ``peer_database_url``, read-only.
    """
    if connections[read_database].vendor != "postgresql":
        raise RebuildError("rebuilding read models needs PostgreSQL")
    if batch_size < 1:
        raise RebuildError("the batch size must be 1 or more")
    try:
        require_projectors(handlers)
    except NotBulkProjectable as error:
        raise RebuildError(str(error)) from None
    started = time.monotonic()
    tables = read_model_tables()
    run = _Run(
        consumer=consumer,
        handlers=handlers,
        sources=[
            ReplaySource(service=service, alias="default", rank=0),
            ReplaySource(service=peer_service, alias=REPLAY_SOURCE_ALIAS, rank=1),
        ],
        batch_size=batch_size,
        progress_every=progress_every,
        report=report,
    )
    with (
        _extra_connection(REBUILD_ALIAS, _rebuild_connection_settings(read_database)),
        _extra_connection(
            REPLAY_SOURCE_ALIAS, _source_connection_settings(peer_database_url)
        ),
    ):
        with connections[REBUILD_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK])
            if not cursor.fetchone()[0]:
                raise RebuildError("another rebuild of these read models is running")
        try:
            _load_or_create_schema(run, tables=tables, resume=resume, restart=restart)
            report(
                f"replaying the {service} and {peer_service} event stores into "
                f"{REBUILD_SCHEMA}.* ({', '.join(tables)})"
            )
            _catch_up(run)
            _carry_over_processed_at(run)
            for attempt in range(1, SWITCH_ATTEMPTS + 1):
                # The switch may roll back; what it replayed then did not happen.
                before = copy.deepcopy((run.sources, run.result))
                try:
                    _switch(run, tables=tables, lock_timeout=lock_timeout)
                    break
                except OperationalError as error:
                    if not _lock_timed_out(error) or attempt == SWITCH_ATTEMPTS:
                        raise
                    run.sources, run.result = before
                    report(f"the switch waited too long for a lock; retry {attempt}")
                    _catch_up(run)
        finally:
            _release_run_lock()
    run.result.positions = {s.service: s.position for s in run.sources}
    run.result.still_held = sum(len(s.unresolved) for s in run.sources)
    run.result.seconds = time.monotonic() - started
    return run.result


def _release_run_lock() -> None:
    try:
        with connections[REBUILD_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK])
    except DatabaseError:
        pass  # the connection is gone, and the session lock with it


def _catch_up(run: _Run) -> None:
    """Replay passes until one replays no more than a handful of events.

    A hole that is not proven for good yet does not hold the catch-up: the
    next pass reads again from below it, and whatever is still missing at
    the switch reaches the new tables through the live consumer.
    """
    for _ in range(MAX_CATCH_UP_PASSES):
        if _replay_pass(run) <= FINAL_STEP_LIMIT:
            return

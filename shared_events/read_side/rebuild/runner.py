"""A whole rebuild, as the ``rebuild_read_models`` command runs it.

Two extra connections for this run only (the rebuild's, to the read
database; the peer's event store, read-only), a session lock so two rebuilds
never run at once, the shadow schema created or resumed, the catch-up, and
the switch, retried when it waits too long for a lock.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import environ
from django.db import DatabaseError, OperationalError, connections, transaction
from django.db.utils import load_backend

from shared_events.read_side.projectors import (
    NotBulkProjectable,
    Projector,
    require_projectors,
)
from shared_events.read_side.rebuild.replay import (
    RebuildResult,
    ReplayRun,
    Report,
    catch_up,
)
from shared_events.read_side.rebuild.schema import (
    REBUILD_ALIAS,
    REBUILD_SCHEMA,
    RETIRED_SCHEMA,
    RebuildError,
    create_rebuild_schema,
    read_model_tables,
    schema_exists,
)
from shared_events.read_side.rebuild.source import ReplaySource
from shared_events.read_side.rebuild.switch import (
    SWITCH_ATTEMPTS,
    carry_over_processed_at,
    lock_timed_out,
    switch_tables,
)

# The peer's event store, read-only, for this run only.
REPLAY_SOURCE_ALIAS = "read_model_replay_source"
# A session advisory lock (a 64-bit number the platform uses for nothing
# else): two rebuilds never run at once.
RUN_LOCK = 0x52454144_4D4F4432


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


@contextmanager
def read_only_event_store(url: str, alias: str = REPLAY_SOURCE_ALIAS) -> Iterator[None]:
    """Another service's event store at ``url``, read-only, as the database
    alias ``alias`` for this thread and this run only (a ``ReplaySource``
    reads through it): the rebuild's way in, and any new consumer's replay."""
    with _extra_connection(alias, _source_connection_settings(url)):
        yield


def _rebuild_connection_settings(read_database: str) -> dict:
    settings_dict = copy.deepcopy(connections[read_database].settings_dict)
    options = dict(settings_dict.get("OPTIONS") or {})
    # A replayed chunk need not wait for the disk: a crash loses at most the
    # last chunks and their progress with them, and --resume replays those.
    # The switch waits (see switch.switch_tables).
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
    run: ReplayRun, *, tables: Sequence[str], resume: bool, restart: bool
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
        if schema_exists(cursor, RETIRED_SCHEMA):
            raise RebuildError(
                f"a schema named {RETIRED_SCHEMA!r} exists in the read database; "
                "the switch needs that name"
            )
        exists = schema_exists(cursor, REBUILD_SCHEMA)
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
            create_rebuild_schema(cursor, tables=tables)
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
    run = ReplayRun(
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
            catch_up(run)
            carry_over_processed_at(run)
            for attempt in range(1, SWITCH_ATTEMPTS + 1):
                # The switch may roll back; what it replayed then did not happen.
                before = copy.deepcopy((run.sources, run.result))
                try:
                    switch_tables(run, tables=tables, lock_timeout=lock_timeout)
                    break
                except OperationalError as error:
                    if not lock_timed_out(error) or attempt == SWITCH_ATTEMPTS:
                        raise
                    run.sources, run.result = before
                    report(f"the switch waited too long for a lock; retry {attempt}")
                    catch_up(run)
        finally:
            release_run_lock()
    run.result.positions = {s.service: s.position for s in run.sources}
    run.result.still_held = sum(len(s.unresolved) for s in run.sources)
    run.result.seconds = time.monotonic() - started
    return run.result


def release_run_lock() -> None:
    try:
        with connections[REBUILD_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK])
    except DatabaseError:
        pass  # the connection is gone, and the session lock with it

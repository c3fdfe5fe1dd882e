"""The write freeze: the old side refuses writes while the last rows move.

Why a trigger in the old database, not stopping the web processes: the
command may not own those processes (``manage.py up`` in another terminal,
containers), but it does own the data. A write to a frozen table fails with
SQLSTATE 55000 (object not in prerequisite state), which the services
already answer as 503 with ``Retry-After``: a client retries instead of
losing its write, and no write can land on the old side after it was copied.

The freeze stays after the switch, on purpose: a process still running on
the old approach (one not restarted yet) cannot write where nobody will
read. The way back (``thaw``) removes it.
"""

from __future__ import annotations

from psycopg2 import sql

from stack.connections import open_connection

FREEZE_FUNCTION = "strangler_refuse_write"
FREEZE_TRIGGER = "strangler_write_freeze"

_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FREEZE_FUNCTION}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'writes refused: the platform is moving to %', TG_ARGV[0]
        USING ERRCODE = '55000',
        HINT = 'retry once the services run on the new approach';
END
$$ LANGUAGE plpgsql
"""


def freeze(*, url: str, tables: list[str], target: str) -> None:
    """Refuse every INSERT, UPDATE, DELETE and TRUNCATE on ``tables`` at ``url``.

    Installing the triggers waits for the writes in flight to commit: once
    this returns, the old side's data cannot change.
    """
    with open_connection(url) as connection, connection.cursor() as cursor:
        cursor.execute(_FUNCTION)
        for table in tables:
            for timing in ("FOR EACH ROW", "FOR EACH STATEMENT"):
                events = "INSERT OR UPDATE OR DELETE" if "ROW" in timing else "TRUNCATE"
                name = FREEZE_TRIGGER + ("" if "ROW" in timing else "_truncate")
                cursor.execute(
                    sql.SQL(
                        "DROP TRIGGER IF EXISTS {name} ON {table}; "
                        "CREATE TRIGGER {name} BEFORE {events} ON {table} "
                        "{timing} EXECUTE FUNCTION {function}({target})"
                    ).format(
                        name=sql.Identifier(name),
                        table=sql.Identifier(table),
                        events=sql.SQL(events),
                        timing=sql.SQL(timing),
                        function=sql.Identifier(FREEZE_FUNCTION),
                        target=sql.Literal(target),
                    )
                )
        connection.commit()


def thaw(*, url: str, tables: list[str]) -> None:
    """The way back: let the old side take writes again."""
    with open_connection(url) as connection, connection.cursor() as cursor:
        for table in tables:
            for name in (FREEZE_TRIGGER, FREEZE_TRIGGER + "_truncate"):
                cursor.execute(
                    sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
                        sql.Identifier(name), sql.Identifier(table)
                    )
                )
        connection.commit()


def frozen_tables(*, url: str) -> list[str]:
    with open_connection(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger "
            "WHERE tgname = %s ORDER BY 1",
            [FREEZE_TRIGGER],
        )
        return [name for (name,) in cursor.fetchall()]


# --- the event guard: a freeze that lets event-sourced writes through -------

EVENT_GUARD_FUNCTION = "strangler_require_event"
EVENT_GUARD_TRIGGER = "strangler_event_guard"

_EVENT_GUARD = f"""
CREATE OR REPLACE FUNCTION {EVENT_GUARD_FUNCTION}() RETURNS trigger AS $$
DECLARE
    aggregate uuid;
    backed boolean;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        backed := false;
    ELSIF TG_ARGV[1] <> '' THEN
        -- A child row (an order's line): its parent must have events.
        aggregate := CASE WHEN TG_OP = 'DELETE' THEN
            (to_jsonb(OLD) ->> TG_ARGV[1])::uuid
            ELSE (to_jsonb(NEW) ->> TG_ARGV[1])::uuid END;
        backed := EXISTS (SELECT 1 FROM event_store WHERE aggregate_id = aggregate);
    ELSIF TG_OP = 'DELETE' THEN
        backed := EXISTS (SELECT 1 FROM event_store WHERE aggregate_id = OLD.id
                          AND aggregate_version > OLD.version);
    ELSE
        backed := EXISTS (SELECT 1 FROM event_store WHERE aggregate_id = NEW.id
                          AND aggregate_version = NEW.version);
    END IF;
    IF backed THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'writes refused: the platform is moving to %', TG_ARGV[0]
        USING ERRCODE = '55000',
        HINT = 'retry once the services run on the new approach';
END
$$ LANGUAGE plpgsql
"""


def guard_with_events(*, url: str, tables: dict[str, str], target: str) -> None:
    """Refuse every write to ``tables`` that no stored event stands behind.

    The freeze for a move that keeps the same tables (db_per_service to
    event_sourcing): a state row may change only to a version the event
    store holds (a line only for an order with events), which is exactly
    what an event-sourced repository writes in the transaction of its
    append, and never what a process still on the old approach writes. So
    the guard needs no lifting at the switch: the old side's writers are
    refused (503) until they restart, the new side's pass from the start.
    ``tables`` maps a table to the column naming its parent aggregate ("" for
    an aggregate's own state table).
    """
    with open_connection(url) as connection, connection.cursor() as cursor:
        cursor.execute(_EVENT_GUARD)
        for table, parent in tables.items():
            for timing in ("FOR EACH ROW", "FOR EACH STATEMENT"):
                events = "INSERT OR UPDATE OR DELETE" if "ROW" in timing else "TRUNCATE"
                name = EVENT_GUARD_TRIGGER + ("" if "ROW" in timing else "_truncate")
                cursor.execute(
                    sql.SQL(
                        "DROP TRIGGER IF EXISTS {name} ON {table}; "
                        "CREATE TRIGGER {name} BEFORE {events} ON {table} "
                        "{timing} EXECUTE FUNCTION {function}({target}, {parent})"
                    ).format(
                        name=sql.Identifier(name),
                        table=sql.Identifier(table),
                        events=sql.SQL(events),
                        timing=sql.SQL(timing),
                        function=sql.Identifier(EVENT_GUARD_FUNCTION),
                        target=sql.Literal(target),
                        parent=sql.Literal(parent),
                    )
                )
        connection.commit()


def remove_event_guard(*, url: str, tables: list[str]) -> None:
    """The way back (and ``--drop-old``): the tables take any write again."""
    with open_connection(url) as connection, connection.cursor() as cursor:
        for table in tables:
            for name in (EVENT_GUARD_TRIGGER, EVENT_GUARD_TRIGGER + "_truncate"):
                cursor.execute(
                    sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
                        sql.Identifier(name), sql.Identifier(table)
                    )
                )
        connection.commit()

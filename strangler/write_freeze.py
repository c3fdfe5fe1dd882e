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

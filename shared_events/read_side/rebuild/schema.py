"""The rebuild's shadow schema: fresh copies of the read-model tables.

In the read database a schema ``rebuild`` gets a copy of every read-model
table and of the read side's tracking tables, made with ``CREATE TABLE ...
(LIKE ... INCLUDING ALL)``, with its constraints and indexes renamed to the
live tables' names so the migrations still find them after the switch. A
table ``rebuild.progress`` keeps the replay positions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.apps import apps
from django.conf import settings

from shared_events.models import AggregateCursor, ProcessedEvent
from shared_events.read_side.bulk_writes import quote

REBUILD_SCHEMA = "rebuild"
RETIRED_SCHEMA = "retired"
# The rebuild's own connection to the read database (search_path=rebuild,public).
REBUILD_ALIAS = "read_model_rebuild"


class RebuildError(RuntimeError):
    """The rebuild stopped; the live read models are untouched."""


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


def schema_exists(cursor, schema: str) -> bool:
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
                    f"ALTER TABLE {REBUILD_SCHEMA}.{quote(table)} RENAME CONSTRAINT "
                    f"{quote(name)} TO {quote(match[0])}"
                )
        indexes = live_indexes[table]
        for name, definition in copied_indexes[table]:
            match = next((i for i in indexes if i[1] == definition), None)
            if match is None:
                continue
            indexes.remove(match)
            if match[0] != name:
                renames.append(
                    f"ALTER INDEX {REBUILD_SCHEMA}.{quote(name)} RENAME TO "
                    f"{quote(match[0])}"
                )
    if renames:
        cursor.execute("; ".join(renames))


def create_rebuild_schema(cursor, *, tables: Sequence[str]) -> None:
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
                    f"CREATE TABLE {REBUILD_SCHEMA}.{quote(table)} "
                    f"(LIKE public.{quote(table)} INCLUDING ALL)"
                    for table in tables
                ),
            ]
        )
    )
    _rename_like_live(cursor, tables)

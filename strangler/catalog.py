"""What a database holds, asked of the database itself: names, tables, counts."""

from __future__ import annotations

from psycopg2 import sql

from stack.connections import fetch_value


def database_name(url: str) -> str:
    """The database name in ``url`` (what CREATE and DROP DATABASE take)."""
    return url.rsplit("/", 1)[-1].split("?", 1)[0]


def has_table(url: str, table: str) -> bool:
    return bool(fetch_value(url, "SELECT to_regclass(%s) IS NOT NULL", [table]))


def row_count(url: str, table: str) -> int:
    return fetch_value(
        url, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
    )


def foreign_key_count(url: str, table: str) -> int:
    """The foreign keys ``table`` holds (0 if there is no such table)."""
    return fetch_value(
        url,
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid = to_regclass(%s)",
        [table],
    )

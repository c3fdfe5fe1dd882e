"""Copying a table from one database to another, safely redone after a crash.

Two ways, one for each phase of a move:

- ``copy_missing`` while the old side still takes writes: batches in key
  order, each ``INSERT ... ON CONFLICT DO NOTHING`` and committed on its
  own. Killed half-way, the next run inserts only what is not there yet.
  It never changes a row already copied, so it cannot keep up with updates.
- ``fill_differences`` behind the write freeze: compare and fill. Every row
  that differs is overwritten (``ON CONFLICT DO UPDATE ... WHERE ... IS
  DISTINCT FROM``), every row the old side no longer has is deleted. Run
  twice, the second run changes nothing.

Values travel as text and are cast back to the column's own type on the
other side, so any column type copies the same way. ``table_digest`` is what
``verify`` compares: the row count and an md5 over every row in key order.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from psycopg2 import errors, sql
from psycopg2.extras import execute_values

from stack.connections import fetch_rows, open_connection

# Test-only knobs: smaller batches and a pause after each one make a copy
# slow enough to be killed in the middle (tests/test_strangler_split.py).
BATCH_ROWS_VARIABLE = "STRANGLER_BATCH_ROWS"
PAUSE_VARIABLE = "STRANGLER_PAUSE_SECONDS"

_COLUMNS = """
SELECT attname, format_type(atttypid, atttypmod)
FROM pg_attribute
WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped
ORDER BY attnum
"""


@dataclass(frozen=True)
class TableCopy:
    """One table moving from ``source_url`` to ``target_url``, keyed by ``key``."""

    table: str
    key: str
    source_url: str
    target_url: str

    def columns(self) -> list[tuple[str, str]]:
        """(name, type) of the columns both sides have, in the source's order."""
        target = dict(fetch_rows(self.target_url, _COLUMNS, [self.table]))
        return [
            (name, kind)
            for name, kind in fetch_rows(self.source_url, _COLUMNS, [self.table])
            if name in target
        ]


def _batch_rows() -> int:
    return int(os.environ.get(BATCH_ROWS_VARIABLE) or 1000)


def _source_batches(copy: TableCopy, columns: list[tuple[str, str]]):
    """The source's rows as text, in key order, a batch at a time."""
    names = [name for name, _ in columns]
    key_index = names.index(copy.key)
    # ORDER BY and WHERE name the table's column, qualified: a bare "id"
    # would mean the output column, which is text here, and sort "10" before
    # "9", so the batches would skip rows.
    key = sql.Identifier(copy.table, copy.key)
    listed = sql.SQL(", ").join(
        sql.SQL("{}::text").format(sql.Identifier(n)) for n in names
    )
    select = sql.SQL("SELECT {} FROM {} WHERE {} > %s ORDER BY {} LIMIT %s").format(
        listed, sql.Identifier(copy.table), key, key
    )
    first = sql.SQL("SELECT {} FROM {} ORDER BY {} LIMIT %s").format(
        listed, sql.Identifier(copy.table), key
    )
    last = None
    with open_connection(copy.source_url) as connection:
        while True:
            with connection.cursor() as cursor:
                if last is None:
                    cursor.execute(first, [_batch_rows()])
                else:
                    cursor.execute(select, [last, _batch_rows()])
                rows = cursor.fetchall()
            connection.rollback()
            if not rows:
                return
            yield rows
            last = rows[-1][key_index]


def _insert(copy: TableCopy, columns: list[tuple[str, str]], conflict: sql.Composable):
    template = "(" + ", ".join(f"%s::{kind}" for _, kind in columns) + ")"
    statement = sql.SQL("INSERT INTO {} ({}) VALUES %s ").format(
        sql.Identifier(copy.table),
        sql.SQL(", ").join(sql.Identifier(name) for name, _ in columns),
    )
    return statement + conflict, template


def copy_missing(copy: TableCopy, *, progress=None) -> int:
    """Insert every source row the target lacks; return how many were inserted."""
    columns = copy.columns()
    statement, template = _insert(copy, columns, sql.SQL("ON CONFLICT DO NOTHING"))
    inserted = read = 0
    pause = float(os.environ.get(PAUSE_VARIABLE) or 0)
    with open_connection(copy.target_url) as target:
        for rows in _source_batches(copy, columns):
            with target.cursor() as cursor:
                execute_values(
                    cursor,
                    statement.as_string(target),
                    rows,
                    template=template,
                    page_size=len(rows),
                )
                added = cursor.rowcount
            read += len(rows)
            try:
                target.commit()
            except errors.ForeignKeyViolation:
                # A row written after its parent table was copied (a new
                # order's lines): the fill behind the freeze copies it.
                target.rollback()
                if progress is not None:
                    progress(
                        f"  {copy.table}: a batch refers to rows newer than "
                        "this copy; left for the fill"
                    )
                continue
            inserted += added
            if progress is not None:
                progress(f"  {copy.table}: {read} rows read, {inserted} inserted")
            if pause:
                time.sleep(pause)
    return inserted


def fill_rows(copy: TableCopy) -> int:
    """Insert or overwrite every target row that differs from the source's;
    return how many were written."""
    columns = copy.columns()
    others = [name for name, _ in columns if name != copy.key]
    update = sql.SQL(
        "ON CONFLICT ({key}) DO UPDATE SET {sets} "
        "WHERE ({old}) IS DISTINCT FROM ({new})"
    ).format(
        key=sql.Identifier(copy.key),
        sets=sql.SQL(", ").join(
            sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(n), sql.Identifier(n))
            for n in others
        ),
        old=sql.SQL(", ").join(
            sql.SQL("{}.{}").format(sql.Identifier(copy.table), sql.Identifier(n))
            for n in others
        ),
        new=sql.SQL(", ").join(
            sql.SQL("EXCLUDED.{}").format(sql.Identifier(n)) for n in others
        ),
    )
    statement, template = _insert(copy, columns, update)
    filled = 0
    with open_connection(copy.target_url) as target:
        for rows in _source_batches(copy, columns):
            with target.cursor() as cursor:
                execute_values(
                    cursor,
                    statement.as_string(target),
                    rows,
                    template=template,
                    page_size=len(rows),
                )
                filled += cursor.rowcount
        target.commit()
    return filled


def remove_extra(copy: TableCopy) -> int:
    """Delete every target row whose key the source no longer has."""
    keys = sql.SQL("SELECT {}::text FROM {}").format(
        sql.Identifier(copy.key), sql.Identifier(copy.table)
    )
    source_keys = {key for (key,) in fetch_rows(copy.source_url, keys)}
    with open_connection(copy.target_url) as target, target.cursor() as cursor:
        cursor.execute(keys)
        extra = [key for (key,) in cursor.fetchall() if key not in source_keys]
        if extra:
            cursor.execute(
                sql.SQL("DELETE FROM {} WHERE {}::text = ANY(%s)").format(
                    sql.Identifier(copy.table), sql.Identifier(copy.key)
                ),
                [extra],
            )
        target.commit()
    return len(extra)


def fill_differences(copies: list[TableCopy]) -> dict[str, tuple[int, int]]:
    """Make each target table equal its source; (filled, removed) per table.

    Removals go children first (a token before its user, lines before their
    order), writes parents first, so every foreign key holds at each commit.
    """
    removed = {copy: remove_extra(copy) for copy in reversed(copies)}
    return {copy: (fill_rows(copy), removed[copy]) for copy in copies}


def reset_sequence(*, url: str, table: str, key: str) -> None:
    """Move a serial key's sequence past the copied rows, so the next row a
    service inserts on the new side does not collide with a copied one."""
    with open_connection(url, autocommit=True) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, key])
        (sequence,) = cursor.fetchone()
        if sequence is None:
            return
        cursor.execute(
            sql.SQL("SELECT setval(%s, GREATEST((SELECT max({}) FROM {}), 1))").format(
                sql.Identifier(key), sql.Identifier(table)
            ),
            [sequence],
        )


def table_digest(copy: TableCopy, url: str) -> tuple[int, str]:
    """(rows, md5 of every row in key order) of the table at ``url``: the same
    columns on both sides, so equal data gives an equal digest."""
    names = [name for name, _ in copy.columns()]
    statement = sql.SQL(
        "SELECT count(*), md5(coalesce(string_agg(md5(ROW({})::text), '' "
        "ORDER BY {}), '')) FROM {}"
    ).format(
        sql.SQL(", ").join(sql.Identifier(n) for n in names),
        sql.Identifier(copy.key),
        sql.Identifier(copy.table),
    )
    ((count, digest),) = fetch_rows(url, statement)
    return count, digest

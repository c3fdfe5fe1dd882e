"""Many rows in one statement: ``COPY`` for new rows, an upsert for changed ones.

The rebuild's bulk path (``shared_events.read_side.bulk_projection``) writes a whole
chunk of events' rows at once. Rows it created are new for sure (it looked
for them first), so they go in with ``COPY ... FROM STDIN``, PostgreSQL's
bulk load; rows it changed go in with one ``INSERT ... ON CONFLICT DO
UPDATE`` (psycopg2's ``execute_values``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar
from uuid import UUID

from django.db import models
from psycopg2.extras import execute_values

PAGE_SIZE = 1000  # rows per INSERT statement: a chunk of 500 events is one

# Fields whose Python values psycopg2 writes as they are, and COPY as text.
PLAIN_FIELDS = (
    models.BooleanField,
    models.CharField,
    models.DateTimeField,
    models.DecimalField,
    models.IntegerField,
    models.TextField,
    models.UUIDField,
)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _escaped(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


# One value in COPY's text format, by its type; anything else: str(), escaped.
_COPY_TEXT = {
    type(None): lambda value: "\\N",
    bool: lambda value: "t" if value else "f",
    str: _escaped,
    int: str,
    Decimal: str,
    UUID: str,
    datetime: datetime.isoformat,
}


def _copy_text(value: Any) -> str:
    return _COPY_TEXT.get(type(value), lambda other: _escaped(str(other)))(value)


def copy_rows(
    cursor, *, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """``COPY table (columns) FROM STDIN``: None, bool, str, numbers, UUIDs, times."""
    text = "".join("\t".join(map(_copy_text, row)) + "\n" for row in rows)
    if text:
        cursor.copy_expert(
            f"COPY {quote(table)} ({', '.join(map(quote, columns))}) FROM STDIN",
            io.StringIO(text),
        )


def upsert_rows(
    cursor,
    *,
    table: str,
    columns: Sequence[str],
    conflict: Sequence[str],
    rows: list,
    template: str | None = None,
) -> None:
    """One ``INSERT ... ON CONFLICT (conflict) DO UPDATE`` of every other column."""
    if not rows:
        return
    updates = [column for column in columns if column not in conflict]
    execute_values(
        cursor,
        f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) VALUES %s "
        f"ON CONFLICT ({', '.join(map(quote, conflict))}) DO UPDATE SET "
        + ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in updates),
        rows,
        template=template,
        page_size=PAGE_SIZE,
    )


@dataclass(frozen=True)
class ModelTable:
    """How one model's instances become rows of a multi-row statement."""

    model: type[models.Model]
    fields: tuple[models.Field, ...]
    # Per field: the Python value as it is (False), or Django's
    # get_db_prep_save (True; JSONField and anything unusual).
    prepared: tuple[bool, ...]
    decimals: tuple[tuple[str, Decimal], ...]
    # COPY needs text: possible when every field is plain or JSON.
    copyable: bool

    _known: ClassVar[dict[type[models.Model], ModelTable]] = {}

    @classmethod
    def of(cls, model: type[models.Model]) -> ModelTable:
        table = cls._known.get(model)
        if table is None:
            fields = tuple(model._meta.concrete_fields)
            table = cls._known[model] = cls(
                model=model,
                fields=fields,
                prepared=tuple(not isinstance(f, PLAIN_FIELDS) for f in fields),
                decimals=tuple(
                    (f.attname, Decimal(1).scaleb(-f.decimal_places))
                    for f in fields
                    if isinstance(f, models.DecimalField)
                ),
                copyable=all(
                    isinstance(f, (*PLAIN_FIELDS, models.JSONField)) for f in fields
                ),
            )
        return table

    def select(self, cursor, connection, *, field: str, values: list) -> list:
        """Instances of the rows whose ``field`` is one of ``values``: one query."""
        column = self.model._meta.get_field(field).column
        cursor.execute(
            f"SELECT {', '.join(map(quote, self.columns))} FROM {quote(self.name)} "
            f"WHERE {quote(column)} = ANY(%s)",
            [values],
        )
        converters = [
            (index, field.from_db_value)
            for index, field in enumerate(self.fields)
            if hasattr(field, "from_db_value")
        ]
        names = [field.attname for field in self.fields]
        found = []
        for row in cursor.fetchall():
            row = list(row)
            for index, convert in converters:
                row[index] = convert(row[index], None, connection)
            found.append(self.model.from_db(connection.alias, names, row))
        return found

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    @property
    def columns(self) -> list[str]:
        return [field.column for field in self.fields]

    def as_stored(self, row: models.Model) -> None:
        """Round decimals as the database column will, so later folds see the same."""
        for name, step in self.decimals:
            value = getattr(row, name)
            if isinstance(value, Decimal):
                setattr(row, name, value.quantize(step, rounding=ROUND_HALF_UP))

    def values(self, row: models.Model, connection) -> list:
        """The row's values for ``execute_values``."""
        return [
            field.get_db_prep_save(getattr(row, field.attname), connection)
            if prepared
            else getattr(row, field.attname)
            for field, prepared in zip(self.fields, self.prepared, strict=True)
        ]

    def copy_values(self, row: models.Model) -> list:
        """The row's values for ``copy_rows`` (JSON as its text)."""
        return [
            _json_text(field, getattr(row, field.attname))
            if prepared
            else getattr(row, field.attname)
            for field, prepared in zip(self.fields, self.prepared, strict=True)
        ]

    def write(self, cursor, connection, *, new: list, changed: list) -> None:
        """COPY the new rows, upsert the changed ones (or all, if not copyable)."""
        if not self.copyable:
            changed, new = [*new, *changed], []
        copy_rows(
            cursor,
            table=self.name,
            columns=self.columns,
            rows=(self.copy_values(row) for row in new),
        )
        upsert_rows(
            cursor,
            table=self.name,
            columns=self.columns,
            conflict=[self.model._meta.pk.column],
            rows=[self.values(row, connection) for row in changed],
        )


def _json_text(field: models.Field, value: Any) -> str | None:
    if value is None and field.null:
        return None
    return json.dumps(value, cls=field.encoder)

"""Comparing: expected rows against the rows a table holds, column by column."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from observe.audit.connections import connected, read_rows


@dataclass
class RowDifference:
    """One row that is not what it should be.

    ``kind``: "missing" (expected, not there), "extra" (there, not expected)
    or "different" (``fields`` names each differing column).
    """

    table: str
    row_id: str
    kind: str
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    note: str = ""
    # What the row should hold (None: it should not exist); used by --repair.
    expected: dict[str, Any] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "row_id": self.row_id,
            "kind": self.kind,
            "fields": {
                name: {side: _plain(value) for side, value in values.items()}
                for name, values in self.fields.items()
            },
            "note": self.note,
        }

    def describe(self) -> str:
        text = f"{self.table} {self.row_id}: {self.kind}"
        if self.fields:
            text += ": " + "; ".join(
                f"{name} expected {_shown(values['expected'])} "
                f"found {_shown(values['actual'])}"
                for name, values in self.fields.items()
            )
        if self.note:
            text += f" ({self.note})"
        return text


def _normal(value: Any) -> Any:
    """One spelling per value: money as Decimal, order lines as tuples."""
    if isinstance(value, list):
        return tuple(_normal(item) for item in value)
    if isinstance(value, dict):
        if "unit_price" in value:
            return (
                value.get("sku"),
                int(value.get("quantity", 0)),
                Decimal(str(value.get("unit_price"))),
            )
        return tuple(sorted((key, _normal(item)) for key, item in value.items()))
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _shown(value: Any) -> str:
    plain = _plain(value)
    return json.dumps(plain) if isinstance(plain, str | list | dict) else str(plain)


def compare_rows(
    *,
    table: str,
    expected: Mapping[str, Mapping[str, Any]],
    actual: Mapping[str, Mapping[str, Any]],
    notes: Mapping[str, str] | None = None,
    columns: Sequence[str] | None = None,
) -> list[RowDifference]:
    """Every missing, extra and different row, in a stable order.

    ``columns``: the columns compared (default: every column expected).
    """
    notes = notes or {}
    differences = []
    for row_id in sorted(expected.keys() | actual.keys()):
        want, have = expected.get(row_id), actual.get(row_id)
        if have is None:
            differences.append(
                RowDifference(
                    table,
                    row_id,
                    "missing",
                    note=notes.get("missing", ""),
                    expected=dict(want),
                )
            )
        elif want is None:
            differences.append(
                RowDifference(table, row_id, "extra", note=notes.get("extra", ""))
            )
        else:
            fields = {
                name: {"expected": value, "actual": have.get(name)}
                for name, value in want.items()
                if (columns is None or name in columns)
                and _normal(value) != _normal(have.get(name))
            }
            if fields:
                differences.append(
                    RowDifference(
                        table,
                        row_id,
                        "different",
                        fields,
                        note=notes.get("different", ""),
                        expected=dict(want),
                    )
                )
    return differences


def read_table(url: str, table: str, key: str, columns: list[str]) -> dict[str, dict]:
    with connected(url) as connection:
        rows = read_rows(
            connection,
            f"SELECT {', '.join([f'{key}::text AS row_id', *columns])} FROM {table}",
        )
    for row in rows:
        # Text whichever way this process's psycopg2 was set up (Django
        # registers a UUID adapter and a raw-text JSON loader of its own).
        if row.get("customer_id") is not None:
            row["customer_id"] = str(row["customer_id"])
        if isinstance(row.get("lines"), str):
            row["lines"] = json.loads(row["lines"])
    return {row.pop("row_id"): row for row in rows}

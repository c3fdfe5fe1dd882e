"""The place form's line rows, and the JSON API's ``lines`` they stand for.

A form has no lists: line ``n`` is the inputs ``lines-<n>-sku``,
``lines-<n>-quantity`` and ``lines-<n>-unit_price``. A row left blank is no
line, so the lines the serializer numbers 0, 1 ... may come from rows 0, 2
...; ``Placement.row_of_line`` maps the serializer's errors back to the row
that caused them, which is where the form shows them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from order_service.orders.apis import MAX_LINES_PER_ORDER

LINE_FIELDS = ("sku", "quantity", "unit_price")
#: Rows an empty form offers.
EMPTY_ROWS = 3
_ROW_INPUT = re.compile(r"^lines-(\d{1,3})-(sku|quantity|unit_price)$")


@dataclass(frozen=True)
class Placement:
    #: The body as the JSON API takes it (``customer_id``, ``lines``).
    body: Any
    #: The form row each of ``body["lines"]`` came from.
    row_of_line: list[int] = field(default_factory=list)


def submitted_rows(data: Any) -> dict[int, dict[str, str]]:
    """The line rows sent, by row number (a JSON body's ``lines`` too)."""
    if not isinstance(data, Mapping):
        return {}
    lines = data.get("lines")
    if isinstance(lines, list):  # the JSON API's own body
        return {
            index: {name: str(line.get(name, "")) for name in LINE_FIELDS}
            for index, line in enumerate(lines[:MAX_LINES_PER_ORDER])
            if isinstance(line, Mapping)
        }
    rows: dict[int, dict[str, str]] = {}
    for key in data:
        match = _ROW_INPUT.match(str(key))
        if match and int(match[1]) < MAX_LINES_PER_ORDER:
            rows.setdefault(int(match[1]), {})[match[2]] = str(data.get(key))
    return rows


def placement_from(data: Any) -> Placement:
    """What the JSON API's serializer validates, from a form or a JSON body."""
    if not isinstance(data, Mapping) or "lines" in data:
        return Placement(body=data)  # the serializer says what is wrong
    rows = submitted_rows(data)
    filled = [
        index
        for index in sorted(rows)
        if any(value.strip() for value in rows[index].values())
    ]
    lines = [
        {name: rows[index].get(name, "") for name in LINE_FIELDS} for index in filled
    ]
    body = {"customer_id": data.get("customer_id", ""), "lines": lines}
    return Placement(body=body, row_of_line=filled)


def errors_by_row(errors: Any, row_of_line: list[int]) -> Any:
    """The serializer's errors with each line's renumbered as its form row."""
    if not row_of_line or not isinstance(errors, Mapping):
        return errors
    lines = errors.get("lines")
    if not isinstance(lines, Mapping):
        return errors  # about the lines as a whole (an order over the limit)

    # DRF numbers each line's errors (``{1: {"quantity": [...]}}``), beside
    # ``non_field_errors`` about the list itself ("at least 1 elements").
    def row(key):
        numbered = isinstance(key, int) and 0 <= key < len(row_of_line)
        return row_of_line[key] if numbered else key

    return {**errors, "lines": {row(key): error for key, error in lines.items()}}


def form_rows(
    rows: Mapping[int, Mapping[str, str]], errors: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The rows the form shows: those sent (or ``EMPTY_ROWS``), with errors."""
    count = max(EMPTY_ROWS, max(rows, default=-1) + 1)
    return [
        {
            "index": index,
            "values": {name: rows.get(index, {}).get(name, "") for name in LINE_FIELDS},
            "errors": {
                name: errors.get(f"lines-{index}-{name}", "") for name in LINE_FIELDS
            },
        }
        for index in range(count)
    ]

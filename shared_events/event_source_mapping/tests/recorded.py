"""A handler module named by dotted path, as a mapping's ``function`` names one."""

from __future__ import annotations

from typing import Any

#: Every event handed to :func:`handler` in this process.
EVENTS: list[dict[str, Any]] = []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    EVENTS.append(event)
    return {"batchItemFailures": []}

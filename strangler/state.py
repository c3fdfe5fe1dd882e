"""Which stages of a step are done, recorded in the TARGET side's database.

Why the target side: the old side is the one being left, and after the
switch it is frozen (then dropped); the record of the move belongs with the
data it produced. A stage is marked done in its own transaction once its
work is committed, so a crash in the middle leaves it not done, and the next
run does it again. That is why every stage must be safe to redo.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from stack.connections import open_connection

STATE_TABLE = "strangler_migration_stage"

_CREATE = f"""
CREATE TABLE IF NOT EXISTS {STATE_TABLE} (
    step text NOT NULL,
    stage text NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    detail jsonb NOT NULL DEFAULT '{{}}',
    PRIMARY KEY (step, stage)
)
"""


class StageRecord:
    """The stages of one step recorded in one database."""

    def __init__(self, *, url: str, step: str) -> None:
        self.url = url
        self.step = step

    def ensure_table(self) -> None:
        with open_connection(self.url, autocommit=True) as connection:
            connection.cursor().execute(_CREATE)

    def done(self) -> dict[str, dict[str, Any]]:
        """Each finished stage's detail, with ``finished_at``; {} if none (or
        no table yet: the database has never seen this step)."""
        with open_connection(self.url, autocommit=True) as connection:
            cursor = connection.cursor()
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [STATE_TABLE])
            if not cursor.fetchone()[0]:
                return {}
            cursor.execute(
                f"SELECT stage, finished_at, detail FROM {STATE_TABLE} WHERE step = %s",
                [self.step],
            )
            return {
                stage: {**detail, "finished_at": finished_at}
                for stage, finished_at, detail in cursor.fetchall()
            }

    def mark_done(self, stage: str, **detail: Any) -> None:
        """Record ``stage`` as finished; a second mark keeps the first."""
        with open_connection(self.url, autocommit=True) as connection:
            connection.cursor().execute(
                f"INSERT INTO {STATE_TABLE} (step, stage, detail) "
                "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                [self.step, stage, json.dumps(detail, default=_plain)],
            )

    def now(self) -> datetime:
        with open_connection(self.url, autocommit=True) as connection:
            cursor = connection.cursor()
            cursor.execute("SELECT clock_timestamp()")
            return cursor.fetchone()[0]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)

"""Where the auditor looks, and how it reads: read-only psycopg2, no models.

Under ``EVENT_STORE=dynamodb`` the upstream truth is not in PostgreSQL: the
auditor then also reads the DynamoDB event tables (``event_tables``), with a
Scan, as it reads the ``event_store`` table otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg2

from observe.event_tables import EventTables
from shared_events.approaches import Approach, approach_info
from shared_events.configuration import (
    current_approach,
    database_url,
    load_env,
    read_database_url,
)

if TYPE_CHECKING:
    from stack.platform_run import PlatformRun


class AuditError(RuntimeError):
    """The audit could not read what it needs; the message says what to do."""


@dataclass(frozen=True)
class AuditDatabases:
    """Where the auditor looks: each service's write database, and read database;
    and the DynamoDB event tables when the events are there (``event_tables``)."""

    customer: str
    order: str
    customer_read: str | None = None
    order_read: str | None = None
    event_tables: EventTables | None = None

    @classmethod
    def from_environment(cls, *, env=None, approach: Approach | str | None = None):
        env = env or load_env()
        approach = approach or current_approach(env)
        read_side = approach_info(approach).read_side
        return cls(
            event_tables=EventTables.from_environment(env=env, approach=approach),
            customer=database_url(env=env, service="customer", approach=approach),
            order=database_url(env=env, service="order", approach=approach),
            customer_read=(
                read_database_url(env=env, service="customer") if read_side else None
            ),
            order_read=(
                read_database_url(env=env, service="order") if read_side else None
            ),
        )

    @classmethod
    def of_platform(cls, run: PlatformRun) -> AuditDatabases:
        """The databases of a platform started by ``stack.platform_run``."""
        read_side = run.info.read_side
        return cls(
            event_tables=EventTables.of_platform(run),
            customer=run.database_url("customer"),
            order=run.database_url("order"),
            customer_read=run.read_database_url("customer") if read_side else None,
            order_read=run.read_database_url("order") if read_side else None,
        )

    def as_environment(self) -> dict[str, str]:
        """The same databases as the services' settings name them."""
        values = {
            "CUSTOMER_DATABASE_URL": self.customer,
            "ORDER_DATABASE_URL": self.order,
            "CUSTOMER_READ_DATABASE_URL": self.customer_read,
            "ORDER_READ_DATABASE_URL": self.order_read,
        }
        return {key: value for key, value in values.items() if value}


@contextmanager
def connected(url: str, *, readonly: bool = True) -> Iterator[Any]:
    try:
        connection = psycopg2.connect(url, connect_timeout=5)
    except psycopg2.OperationalError as error:
        raise AuditError(f"cannot reach {_safe(url)}: {error}".strip()) from None
    try:
        connection.set_session(readonly=readonly, autocommit=False)
        yield connection
        if not readonly:
            connection.commit()
    except psycopg2.errors.UndefinedTable as error:
        raise AuditError(
            f"{_safe(url)}: {error.pgerror.splitlines()[0]}; has this approach's "
            "database been migrated? (python manage.py migrate)"
        ) from None
    finally:
        connection.close()


def _safe(url: str) -> str:
    """A URL fit for a report: no password."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


def read_rows(connection, statement: str, params=()) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

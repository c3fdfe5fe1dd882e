"""Connections to the platform's databases from outside Django, closed after use.

The runtime, the observers, the lab and the tests read and change the
services' tables with plain psycopg2, each for one short job. A learner
should notice that psycopg2's own ``with connection:`` only ends the
transaction and leaves the connection open; these helpers close it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg2
import psycopg2.extensions


@contextlib.contextmanager
def open_connection(
    url: str, *, autocommit: bool = False, **connect: Any
) -> Iterator[psycopg2.extensions.connection]:
    """A connection to ``url``, closed afterwards (nothing is committed for you).

    ``connect``: psycopg2's keywords, such as ``connect_timeout`` (seconds).
    With ``autocommit`` every statement commits on its own, as DDL run under
    the services' feet (a column renamed by the lab) must.
    """
    connection = psycopg2.connect(url, **connect)
    try:
        connection.autocommit = autocommit
        yield connection
    finally:
        connection.close()


def fetch_rows(
    url: str, statement: str, params: Sequence[Any] | None = None, **connect: Any
) -> list[tuple]:
    """Every row ``statement`` returns, on a connection of its own.

    Without ``params`` the statement is sent as written: a ``%`` in it (as
    in ``LIKE 'a%'``) is then not taken for a placeholder.
    """
    with (
        open_connection(url, **connect) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)
        return cursor.fetchall()


def fetch_value(
    url: str, statement: str, params: Sequence[Any] | None = None, **connect: Any
) -> Any:
    """The first column of the first row ``statement`` returns."""
    return fetch_rows(url, statement, params, **connect)[0][0]

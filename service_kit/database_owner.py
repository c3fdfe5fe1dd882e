"""Connect as the owner of a database's tables, for as long as a schema changes.

A service serves as a role that may read and write rows and nothing more
(``stack/database_roles.py``): it can neither create, alter nor drop a
table. A schema change needs the tables' owner, whose credentials
(``settings.DATABASE_MIGRATION_CREDENTIALS``, from ``DATABASE_MIGRATION_USER``
and ``DATABASE_MIGRATION_PASSWORD``) only the commands that change a schema
swap in, for as long as they run. With no such credentials (a read database,
or a server where the platform made no roles) nothing is swapped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections


@contextmanager
def connected_as_owner(alias: str) -> Iterator[None]:
    credentials = settings.DATABASE_MIGRATION_CREDENTIALS.get(alias)
    if not credentials:
        yield
        return
    connection = connections[alias]
    serving = connection.settings_dict
    # This thread's connection only, opened again as the owner; the dict
    # itself is shared with other threads' connections, so it is replaced,
    # never changed.
    connection.close()
    connection.settings_dict = {**serving, **credentials}
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict = serving

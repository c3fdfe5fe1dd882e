"""What a write does when the database refuses one of its statements.

The write path opens no savepoint per statement (each costs two round trips).
So when PostgreSQL refuses an insert (a taken version, a taken email), the
whole transaction is already aborted on the server. ``refuse_transaction``
tells Django so before the domain error is raised: a caller that catches the
error gets ``TransactionManagementError`` on its next query, and its
``atomic`` block ends in a rollback, never in a commit of half a command.
"""

from __future__ import annotations

from typing import NoReturn
from uuid import UUID

from django.db import connections, transaction

from shared_events.write_side.errors import ConcurrencyConflict


def refuse_transaction(database: str = "default") -> None:
    """Mark the current transaction on ``database`` for rollback.

    Outside any ``atomic`` block the refused statement was its own
    transaction, and there is nothing left to mark.
    """
    if connections[database].in_atomic_block:
        transaction.set_rollback(True, using=database)


def refuse_stale_write(
    database: str, *, aggregate: str, aggregate_id: UUID, expected_version: int
) -> NoReturn:
    """Refuse a state write that matched no row at ``expected_version``.

    Someone else changed the aggregate first. Under event sourcing its events
    may already be appended: the transaction is marked for rollback so they
    never commit alone, and the writer gets ``ConcurrencyConflict`` (409).
    """
    refuse_transaction(database)
    raise ConcurrencyConflict(
        f"{aggregate} {aggregate_id} was changed by someone else since version "
        f"{expected_version}; reload it and try again"
    )

"""What a write does when the database refuses one of its statements.

The write path opens no savepoint per statement (each costs two round trips).
So when PostgreSQL refuses an insert (a taken version, a taken email), the
whole transaction is already aborted on the server. ``refuse_transaction``
tells Django so before the domain error is raised: a caller that catches the
error gets ``TransactionManagementError`` on its next query, and its
``atomic`` block ends in a rollback, never in a commit of half a command.
"""

from __future__ import annotations

from django.db import connections, transaction


def refuse_transaction(database: str = "default") -> None:
    """Mark the current transaction on ``database`` for rollback.

    Outside any ``atomic`` block the refused statement was its own
    transaction, and there is nothing left to mark.
    """
    if connections[database].in_atomic_block:
        transaction.set_rollback(True, using=database)

"""What a consumer's transaction holds on a read database (approach 5).

Two guards, both taken by ``apply_event`` when it applies events to a read
database rather than the service's own:

* ``projecting``: the permit to write read models. The read-model router
  (``shared_events.read_side.routers``) refuses any write to a read model
  outside it, so query code cannot write one and command code cannot update
  one on the side.
* The read-model swap lock. A rebuild swaps the read-model tables under
  this PostgreSQL advisory lock, exclusive
  (``shared_events.read_side.rebuild.switch``); the live read-side consumer
  takes it shared at the start of each message's transaction, so no message
  is applied half to the old tables and half to the new. Consumers never
  wait for one another, only for the few milliseconds of a switch.

They live here, with the consumer that holds them, so the read side (which
uses the consumer's rules) depends on this stage and never the other way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections

_projection_database: ContextVar[str | None] = ContextVar(
    "projection_database", default=None
)


@contextmanager
def projecting(database: str) -> Iterator[None]:
    """Let projection handlers write read models in ``database``."""
    token = _projection_database.set(database)
    try:
        yield
    finally:
        _projection_database.reset(token)


def projection_database() -> str | None:
    """The database the running projection writes read models to, if any."""
    return _projection_database.get()


# An advisory lock key: a 64-bit number the platform uses for nothing else.
SWAP_LOCK = 0x52454144_4D4F4431


def hold_read_model_swap_lock(*, using: str) -> None:
    """Wait while a rebuild switches tables; the read-side consumer's one line.

    Call it first thing inside each message's transaction on the read
    database. It takes the swap lock shared: consumers never wait for one
    another, only for the few milliseconds of a switch.
    """
    if using == "default":
        return  # the write side has no read models to switch
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [SWAP_LOCK])

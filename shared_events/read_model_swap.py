"""The read-model swap lock, between a rebuild's switch and the live consumer.

A rebuild swaps the read-model tables under this PostgreSQL advisory lock,
exclusive (``shared_events.rebuild.switch``); the live read-side consumer
takes it shared at the start of each message's transaction, so no message
is applied half to the old tables and half to the new. Consumers never wait
for one another, only for the few milliseconds of a switch.
"""

from __future__ import annotations

from django.db import connections

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

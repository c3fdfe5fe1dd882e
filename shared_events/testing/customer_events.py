"""Customer events as the customer service's write side builds them.

For the library's own tests and the benchmarks: each envelope comes from
``new_envelope`` with a fresh event id and ``occurred_at`` = now, exactly as
a command records it. (The read sides' tests use ``projection_events``
instead, whose clock is fixed so that a projection can be compared field by
field.)
"""

from __future__ import annotations

import uuid

from shared_events.events import EventEnvelope, EventType, new_envelope


def _customer_event(
    event_type: EventType, customer_id: uuid.UUID, *, version: int, **details: str
) -> EventEnvelope:
    return new_envelope(
        event_type=event_type,
        aggregate_type="Customer",
        aggregate_id=customer_id,
        aggregate_version=version,
        producer="customer",
        payload={"customer_id": str(customer_id), **details},
    )


def registered(
    customer_id: uuid.UUID,
    *,
    name: str = "Ada",
    email: str = "ada@example.com",
    address: str = "London",
) -> EventEnvelope:
    """The first event of a customer (version 1)."""
    return _customer_event(
        EventType.CUSTOMER_REGISTERED,
        customer_id,
        version=1,
        name=name,
        email=email,
        address=address,
    )


def renamed(
    customer_id: uuid.UUID, *, version: int, name: str = "Ada Lovelace"
) -> EventEnvelope:
    return _customer_event(
        EventType.CUSTOMER_RENAMED, customer_id, version=version, name=name
    )

"""Provenance: an event speaks only for an aggregate its producer owns.

A valid signature says *who* wrote an event; this says whether that service
may say it. What a learner should notice, in the order it is checked:

* every aggregate of the platform is keyed by a UUID (the consumers' records
  key aggregates by UUID);
* the producer owns the aggregate type (``AGGREGATE_OWNERS`` in the catalog):
  a ``CustomerDeleted`` from the order service is refused, even signed with
  the order service's own, trusted key;
* the envelope's ``aggregate_id`` is the payload's own id (``customer_id``,
  ``order_id``): the id that orders and cursors follow cannot point at
  another aggregate than the one the payload describes.

A producer checks this before it signs (``encode(..., signing_key=...)``) and
a consumer after it verified the signature (``from_json(...,
verifying_keys=...)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from shared_events.events.catalog import AGGREGATE_OWNERS
from shared_events.events.errors import InvalidEvent, UntrustedEvent

if TYPE_CHECKING:
    from shared_events.events.envelope import EventEnvelope


def check_provenance(envelope: EventEnvelope) -> None:
    """Raise unless ``envelope``'s producer owns its aggregate and its
    ``aggregate_id`` is the payload's id (``InvalidEvent``, ``UntrustedEvent``)."""
    try:
        UUID(envelope.aggregate_id)
    except ValueError:
        raise InvalidEvent(
            f"aggregate_id: {envelope.aggregate_id!r} is not a UUID"
        ) from None
    ownership = AGGREGATE_OWNERS.get(envelope.aggregate_type)
    if ownership is None:
        raise UntrustedEvent(
            f"aggregate_type: no service owns {envelope.aggregate_type!r} aggregates"
        )
    if envelope.producer != ownership.producer:
        raise UntrustedEvent(
            f"producer: {envelope.producer!r} may not publish {envelope.event_type}: "
            f"{envelope.aggregate_type} events come from the {ownership.producer} "
            "service only"
        )
    payload_id = envelope.payload.get(ownership.id_field)
    if envelope.aggregate_id != payload_id:
        raise UntrustedEvent(
            f"aggregate_id: {envelope.aggregate_id!r} is not the payload's "
            f"{ownership.id_field} {payload_id!r}"
        )

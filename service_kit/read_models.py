"""What every read-model row records of its freshness, and how a fold stamps it.

What a learner should notice: staleness is data. Every row of both services'
read models (approach 5) keeps the last event applied to it and when it was
projected; the query API shows both fields and derives its
``X-Read-Model-Projected-At`` header from them (``service_kit.api.staleness``).
A projection that writes a row without ``stamp`` would hide how old it is.

Both read sides also keep a copy of each customer's details; ``customer_changes``
says, once, which details each customer event sets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone

from shared_events.events import EventType, OpeningEventType

if TYPE_CHECKING:
    from shared_events.events import EventEnvelope

STAMP_FIELDS = (
    "last_event_id",
    "last_event_type",
    "last_event_occurred_at",
    "projected_at",
)


class ProjectedRow(models.Model):
    """What every read-model row records: the last event applied to it."""

    last_event_id = models.UUIDField(null=True, blank=True)
    last_event_type = models.CharField(max_length=100, blank=True, default="")
    last_event_occurred_at = models.DateTimeField(null=True, blank=True)
    projected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


def stamp(envelope: EventEnvelope) -> dict[str, Any]:
    """The ``STAMP_FIELDS`` of a row that ``envelope`` has just been applied to."""
    return {
        "last_event_id": envelope.event_id,
        "last_event_type": envelope.event_type,
        "last_event_occurred_at": envelope.occurred_at,
        "projected_at": timezone.now(),
    }


def save_stamped(rows, row: ProjectedRow, envelope: EventEnvelope, **fields) -> dict:
    """Set ``fields`` and the stamp on ``row``, save just those; the stamp.

    ``rows`` is the fold's ``ReadModelRows`` (the consumer's or the rebuild's).
    The stamp is returned for rows updated in the same step, so that they all
    record one ``projected_at``.
    """
    stamped = stamp(envelope)
    for name, value in {**fields, **stamped}.items():
        setattr(row, name, value)
    rows.save(row, *fields, *STAMP_FIELDS)
    return stamped


# The details each customer event carries (CustomerDeleted carries none).
CUSTOMER_DETAILS = {
    EventType.CUSTOMER_REGISTERED: ("name", "email", "address"),
    EventType.CUSTOMER_RENAMED: ("name",),
    EventType.CUSTOMER_EMAIL_CHANGED: ("email",),
    EventType.CUSTOMER_ADDRESS_CHANGED: ("address",),
    OpeningEventType.CUSTOMER_IMPORTED: ("name", "email", "address"),
}


def customer_changes(envelope: EventEnvelope) -> dict[str, Any]:
    """The customer details (name, email, address, deleted) a customer event sets."""
    if envelope.event_type == EventType.CUSTOMER_DELETED:
        return {"deleted": True}
    details = CUSTOMER_DETAILS[envelope.event_type]
    return {name: envelope.payload[name] for name in details}

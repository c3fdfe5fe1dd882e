"""The event store: append with optimistic concurrency, load, fold.

Appending checks the expected version and relies on the unique index on
(aggregate_id, aggregate_version): two writers that loaded the same version
race, exactly one insert wins, the other gets ConcurrencyConflict (HTTP 409)
and its whole transaction, state and outbox included, rolls back.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from django.db import IntegrityError, transaction

from shared_events.aggregates import RecordedEvent
from shared_events.errors import ConcurrencyConflict
from shared_events.events import EventEnvelope
from shared_events.models import StoredEvent


def event_store_append(
    *, envelopes: Sequence[EventEnvelope], expected_version: int
) -> list[StoredEvent]:
    """Append one aggregate's new events, refusing a stale expected version."""
    if not envelopes:
        return []
    first = envelopes[0]
    if first.aggregate_version != expected_version + 1:
        raise ConcurrencyConflict(
            f"{first.aggregate_type} {first.aggregate_id} expected at version "
            f"{expected_version}, events start at {first.aggregate_version}"
        )
    rows = [
        StoredEvent(
            event_id=envelope.event_id,
            aggregate_type=envelope.aggregate_type,
            aggregate_id=UUID(str(envelope.aggregate_id)),
            aggregate_version=envelope.aggregate_version,
            event_type=envelope.event_type,
            schema_version=envelope.schema_version,
            occurred_at=envelope.occurred_at,
            payload=envelope.payload,
            metadata={
                "producer": envelope.producer,
                "correlation_id": str(envelope.correlation_id),
                "causation_id": (
                    str(envelope.causation_id) if envelope.causation_id else None
                ),
                "trace_context": envelope.trace_context,
            },
        )
        for envelope in envelopes
    ]
    try:
        with transaction.atomic():
            return StoredEvent.objects.bulk_create(rows)
    except IntegrityError:
        raise ConcurrencyConflict(
            f"{first.aggregate_type} {first.aggregate_id} was changed by someone "
            f"else: version {first.aggregate_version} already exists; reload and "
            "try again"
        ) from None


def event_store_load(
    *, aggregate_id: UUID, up_to_version: int | None = None
) -> list[RecordedEvent]:
    events = StoredEvent.objects.filter(aggregate_id=aggregate_id)
    if up_to_version is not None:
        events = events.filter(aggregate_version__lte=up_to_version)
    return [
        RecordedEvent(
            event_type=row.event_type,
            payload=row.payload,
            aggregate_version=row.aggregate_version,
            schema_version=row.schema_version,
        )
        for row in events.order_by("aggregate_version")
    ]


def event_store_history(*, aggregate_id: UUID):
    """The stored events of one aggregate, oldest first."""
    return StoredEvent.objects.filter(aggregate_id=aggregate_id).order_by(
        "aggregate_version"
    )

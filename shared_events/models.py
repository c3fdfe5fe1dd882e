"""The event tables every service keeps in its own database.

- ``StoredEvent``: the append-only event store of an event-sourced service
  (approaches 4 and 5). The database itself refuses UPDATE and DELETE on it.
- ``OutboxMessage``: events waiting to be relayed to the broker, written in
  the same transaction as the state change (the transactional outbox).
- ``ProcessedEvent``: events a consumer has applied, written in the same
  transaction as the effect, so a redelivered message changes nothing.
- ``AggregateCursor``: the last version a consumer applied per aggregate, so
  events are applied in order and a gap is noticed.
- ``HeldEvent``: an event a consumer received ahead of its aggregate's
  cursor, parked until the events before it are applied (the resequencer of
  ``shared_events.consume.held_events``).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Now


def columns_of(model: type[models.Model], *, without: tuple[str, ...] = ()) -> list:
    """The model's columns in declaration order, its surrogate id left out."""
    return [
        field.attname
        for field in model._meta.concrete_fields
        if not field.primary_key and field.attname not in without
    ]


class StoredEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.UUIDField()
    aggregate_version = models.PositiveIntegerField()
    event_type = models.CharField(max_length=100)
    schema_version = models.PositiveSmallIntegerField(default=1)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(db_default=Now())
    payload = models.JSONField()
    metadata = models.JSONField(default=dict)

    class Meta:
        db_table = "event_store"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_id", "aggregate_version"],
                name="event_store_one_event_per_version",
            ),
            models.CheckConstraint(
                condition=models.Q(aggregate_version__gte=1),
                name="event_store_version_from_one",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.event_type} {self.aggregate_type} {self.aggregate_id} "
            f"v{self.aggregate_version}"
        )


class OutboxMessage(models.Model):
    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True)
    event_type = models.CharField(max_length=100)
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.UUIDField()
    aggregate_version = models.PositiveIntegerField()
    body = models.TextField(help_text="The event envelope, as JSON, validated on write")
    created_at = models.DateTimeField(db_default=Now())
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "event_outbox"
        ordering = ["id"]
        indexes = [
            # The relay only ever looks at unpublished rows: keep that index
            # small however long the published history grows.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="event_outbox_pending",
                condition=models.Q(published_at__isnull=True),
            ),
            models.Index(
                fields=["published_at"],
                name="event_outbox_published",
                condition=models.Q(published_at__isnull=False),
            ),
            # The claim's look for an earlier version still waiting (store.py).
            models.Index(
                fields=["aggregate_id", "aggregate_version"],
                name="event_outbox_pending_versions",
                condition=models.Q(published_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        state = "published" if self.published_at else "pending"
        return (
            f"{self.event_type} {self.aggregate_id} v{self.aggregate_version} ({state})"
        )


class ProcessedEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    consumer = models.CharField(max_length=64)
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    aggregate_id = models.UUIDField()
    aggregate_version = models.PositiveIntegerField()
    occurred_at = models.DateTimeField()
    processed_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "event_processed"
        constraints = [
            models.UniqueConstraint(
                fields=["consumer", "event_id"], name="event_processed_once"
            )
        ]
        indexes = [models.Index(fields=["processed_at"], name="event_processed_at")]

    def __str__(self) -> str:
        return f"{self.consumer}: {self.event_type} {self.event_id}"


class AggregateCursor(models.Model):
    id = models.BigAutoField(primary_key=True)
    consumer = models.CharField(max_length=64)
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.UUIDField()
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "event_aggregate_cursor"
        constraints = [
            models.UniqueConstraint(
                fields=["consumer", "aggregate_id"], name="event_cursor_per_aggregate"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.consumer}: {self.aggregate_type} {self.aggregate_id} "
            f"at v{self.version}"
        )


class HeldEvent(models.Model):
    """An event that arrived ahead of its aggregate's cursor, kept as received.

    The message itself is deleted from the inbox once this row commits, so
    the row keeps what a dead letter needs: the body exactly as it arrived,
    the message's attributes, id and group.
    """

    id = models.BigAutoField(primary_key=True)
    consumer = models.CharField(max_length=64)
    event_id = models.UUIDField()
    aggregate_id = models.UUIDField()
    aggregate_version = models.PositiveIntegerField()
    body = models.TextField()
    message_id = models.CharField(max_length=128)
    message_attributes = models.JSONField(default=dict)
    group_id = models.CharField(max_length=128, blank=True, default="")
    failed_attempts = models.PositiveIntegerField(default=0)
    held_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "event_held"
        constraints = [
            models.UniqueConstraint(
                fields=["consumer", "event_id"], name="event_held_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["consumer", "aggregate_id", "aggregate_version"],
                name="event_held_per_aggregate",
            )
        ]

    def __str__(self) -> str:
        return f"{self.consumer}: {self.aggregate_id} v{self.aggregate_version} held"

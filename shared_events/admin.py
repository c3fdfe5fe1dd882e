"""The event tables in the Django admin: to look at, never to edit.

Every one of these tables is written by the platform itself, in the same
transaction as the change it records. Editing a row by hand would break
exactly what the lesson is about: an event store that is only appended to
(the database refuses UPDATE and DELETE anyway), an outbox whose rows the
relay owns, a consumer's record of what it has already applied. So the
admin shows them read-only, with each event's JSON decoded.
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from shared_events.models import (
    AggregateCursor,
    OutboxMessage,
    ProcessedEvent,
    StoredEvent,
    columns_of,
)


def pretty_json(value: object) -> str:
    """JSON indented for reading, HTML-escaped (an event carries user input)."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Staff with the view permission may look; nobody may add, change, delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)


@admin.register(StoredEvent)
class StoredEventAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "event_type",
        "aggregate_type",
        "aggregate_id",
        "aggregate_version",
        "occurred_at",
        "recorded_at",
    ]
    list_filter = ["event_type", "aggregate_type", "schema_version"]
    search_fields = ["aggregate_id", "event_id"]
    date_hierarchy = "recorded_at"
    fields = [
        *columns_of(StoredEvent, without=("payload", "metadata")),
        "decoded_payload",
        "decoded_metadata",
    ]

    @admin.display(description="payload")
    def decoded_payload(self, event: StoredEvent) -> str:
        return pretty_json(event.payload)

    @admin.display(description="metadata")
    def decoded_metadata(self, event: StoredEvent) -> str:
        return pretty_json(event.metadata)


class PublishedFilter(admin.SimpleListFilter):
    title = "published"
    parameter_name = "published"

    def lookups(self, request, model_admin):
        return [("yes", "Published"), ("no", "Waiting for the relay")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(published_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(published_at__isnull=True)
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "event_type",
        "aggregate_id",
        "aggregate_version",
        "created_at",
        "published_at",
        "attempts",
    ]
    list_filter = [PublishedFilter, "event_type", "aggregate_type"]
    search_fields = ["aggregate_id", "event_id"]
    fields = [*columns_of(OutboxMessage, without=("body",)), "decoded_body"]

    @admin.display(description="body (the event envelope)")
    def decoded_body(self, message: OutboxMessage) -> str:
        try:
            return pretty_json(json.loads(message.body))
        except ValueError:
            # Shown as stored: a body that is not JSON is itself the clue.
            return format_html("<pre>{}</pre>", message.body)


@admin.register(ProcessedEvent)
class ProcessedEventAdmin(ReadOnlyAdmin):
    list_display = [
        "consumer",
        "event_type",
        "aggregate_id",
        "aggregate_version",
        "occurred_at",
        "processed_at",
    ]
    list_filter = ["consumer", "event_type"]
    search_fields = ["aggregate_id", "event_id"]
    fields = columns_of(ProcessedEvent)


@admin.register(AggregateCursor)
class AggregateCursorAdmin(ReadOnlyAdmin):
    list_display = [
        "consumer",
        "aggregate_type",
        "aggregate_id",
        "version",
        "updated_at",
    ]
    list_filter = ["consumer", "aggregate_type"]
    search_fields = ["aggregate_id"]
    fields = columns_of(AggregateCursor)

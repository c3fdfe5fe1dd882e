"""The event tables in the Django admin: to look at, never to edit.

Every one of these tables is written by the platform itself, in the same
transaction as the change it records. Editing a row by hand would break
exactly what the lesson is about: an event store that is only appended to
(the database refuses UPDATE and DELETE anyway), an outbox whose rows the
relay owns, a consumer's record of what it has already applied. So the
admin shows them read-only, with each event's JSON decoded.

``ReadModelAdmin`` does the same for the read models (approach 5), which
only their projections write and which can be rebuilt from the events at
any time: read from the read database, as the query API reads them, and
left out where the service has none (approaches 1 to 4: no tables).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import csrf_protect_m
from django.db import transaction
from django.utils.html import format_html

from shared_events.models import (
    AggregateCursor,
    OutboxMessage,
    ProcessedEvent,
    StoredEvent,
    columns_of,
)
from shared_events.read_side.routers import read_model_database


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


def has_read_database() -> bool:
    return getattr(settings, "READ_DATABASE", None) in settings.DATABASES


class ReadModelAdmin(ReadOnlyAdmin):
    """A read model: shown, read-only, where the service has a read database."""

    def get_fields(self, request, obj=None):
        # Every column: a read model is shown as the projection wrote it.
        return self.fields or [field.name for field in self.model._meta.fields]

    def has_module_permission(self, request) -> bool:
        return has_read_database() and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return has_read_database() and super().has_view_permission(request, obj)

    # Django runs the change and delete pages in a transaction on the model's
    # write database; a read model has none outside a projection (the router
    # refuses), so they run in one on the read database instead, where they
    # only read: every write was refused above, before anything is saved.
    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with transaction.atomic(using=read_model_database()):
            return self._changeform_view(request, object_id, form_url, extra_context)

    @csrf_protect_m
    def delete_view(self, request, object_id, extra_context=None):
        with transaction.atomic(using=read_model_database()):
            return self._delete_view(request, object_id, extra_context)

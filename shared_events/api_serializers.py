"""Pieces of the HTTP APIs that both services share.

- ``expected_version_field``: optimistic concurrency, offered by every command
  that changes an existing aggregate. A client sends the version it last read;
  if someone else has written since, nothing changes and the answer is 409.
- ``StoredEventOutputSerializer``: one stored event, as the history endpoints
  list it.
- ``AsOfVersionSerializer``: the version in an as-of URL, checked like any
  other input (400, not 404 or 500, for ``0`` or ``abc``).
- The documented error answers, so the OpenAPI schema says what a 404 or a
  409 body looks like.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

EXPECTED_VERSION_HELP = (
    "Optimistic concurrency: the `version` you last read. If the aggregate has "
    "been changed since, nothing is written and the answer is 409 Conflict; "
    "reload it and try again. Leave it out to change whatever version is current."
)


def expected_version_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1, required=False, help_text=EXPECTED_VERSION_HELP
    )


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class StoredEventOutputSerializer(serializers.Serializer):
    event_id = serializers.UUIDField()
    event_type = serializers.CharField()
    schema_version = serializers.IntegerField()
    aggregate_version = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    payload = serializers.DictField()
    correlation_id = serializers.UUIDField(
        source="metadata.correlation_id", allow_null=True
    )


class AsOfVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


AS_OF_VERSION_PARAMETER = OpenApiParameter(
    "version",
    int,
    OpenApiParameter.PATH,
    description=(
        "The aggregate version to fold the events up to (1 is the first event). "
        "400 when it is not an integer of at least 1; 404 when the aggregate "
        "has not reached it."
    ),
)

CONFLICT_RESPONSE = OpenApiResponse(
    ErrorDetailSerializer,
    description=(
        "`expected_version` is stale, or another write to the same aggregate "
        "won the race: nothing was changed. Reload and try again."
    ),
)

NOT_FOUND_RESPONSE = OpenApiResponse(ErrorDetailSerializer, description="No such id.")

HISTORY_NOT_FOUND_RESPONSE = OpenApiResponse(
    ErrorDetailSerializer,
    description=(
        "The id recorded no events; or the aggregate has not reached the "
        "version asked for; or the running approach stores current state only "
        "and keeps no history (the `detail` says which)."
    ),
)

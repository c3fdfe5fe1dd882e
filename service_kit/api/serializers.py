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
- ``ErrorDocumentingAutoSchema``: the schema class of both services. It adds
  to every operation the refusals any operation can answer (400 for bad
  input, 401/403, 404 for an unknown id in the path, 413 for an oversized
  body, 429 when throttled, 503 while the database is unreachable), so a
  client, or schemathesis, finds each status code the API may send.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
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
    # The event that caused this one (None for a command's first event) and
    # the W3C traceparent it was recorded in: how an event browser links an
    # event to its cause and to its trace.
    causation_id = serializers.UUIDField(
        source="metadata.causation_id", allow_null=True, default=None
    )
    trace_context = serializers.DictField(
        child=serializers.CharField(),
        source="metadata.trace_context",
        allow_null=True,
        default=None,
    )


class AsOfVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


AS_OF_VERSION_PARAMETER = OpenApiParameter(
    "version",
    {"type": "integer", "minimum": 1},
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

READ_MODEL_NOT_FOUND_RESPONSE = OpenApiResponse(
    ErrorDetailSerializer,
    description=(
        "No such id; or the running approach keeps no read models, which come "
        "with approach 5, cqrs_es (the `detail` says which)."
    ),
)

VALIDATION_ERROR_RESPONSE = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description=(
        "The request was refused as invalid and nothing changed: field errors "
        "by field name (`non_field_errors` for the request as a whole), or a "
        "`detail` for a body that is not JSON."
    ),
)

NOT_AUTHENTICATED_RESPONSE = OpenApiResponse(
    ErrorDetailSerializer, description="No credentials, or invalid ones."
)

FORBIDDEN_RESPONSE = OpenApiResponse(
    ErrorDetailSerializer,
    description="These credentials may not do this (e.g. a read-only service).",
)

BODY_TOO_LARGE_RESPONSE = OpenApiResponse(
    ErrorDetailSerializer,
    description="The request body is larger than the service accepts.",
)

THROTTLED_RESPONSE = OpenApiResponse(
    ErrorDetailSerializer,
    description="Too many requests: the `detail` says when to try again.",
)

DATABASE_UNAVAILABLE_RESPONSE = OpenApiResponse(
    ErrorDetailSerializer,
    description=(
        "The service's database could not be reached (restarting, or cut "
        "off): try again after the Retry-After seconds."
    ),
)

DEPENDENCY_UNAVAILABLE_RESPONSE = OpenApiResponse(
    ErrorDetailSerializer,
    description=(
        "A service this one depends on could not answer (the customer service "
        "under db_per_service): nothing was changed, try again later."
    ),
)


class ErrorDocumentingAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the error answers any operation can give.

    An operation's own ``@extend_schema`` answer for a status code wins; the
    ones added here only fill the gaps.
    """

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in self._error_responses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    response, code, direction=direction
                )
        return responses

    def _error_responses(self) -> dict[str, OpenApiResponse]:
        has_body = self.method in ("POST", "PUT", "PATCH")
        errors = {}
        if has_body or self._get_parameters():
            errors["400"] = VALIDATION_ERROR_RESPONSE
        if self.view.get_authenticators():
            errors["401"] = NOT_AUTHENTICATED_RESPONSE
        auth = self.get_auth()
        if auth and {} not in auth:  # not open to anonymous clients
            errors["403"] = FORBIDDEN_RESPONSE
        # A view may say what its 404 means (``not_found_response``).
        not_found = getattr(self.view, "not_found_response", None)
        if not_found is not None:
            errors["404"] = not_found
        elif "{" in self.path:
            errors["404"] = NOT_FOUND_RESPONSE
        if has_body:
            errors["413"] = BODY_TOO_LARGE_RESPONSE
        if self.view.get_throttles():
            errors["429"] = THROTTLED_RESPONSE
        errors["503"] = DATABASE_UNAVAILABLE_RESPONSE
        return errors

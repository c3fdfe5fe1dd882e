"""How fresh a query-API answer is: the X-Read-Model-Projected-At header.

Both services' query APIs (approach 5) state it the same way: the newest
``projected_at`` of the rows returned, or, for an empty page, of the whole
read model. ``read_model_page`` and ``read_model_row`` are the two answers a
query API gives (a page, one row), each with the header: a learner should
notice that no answer of the read side leaves its staleness out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from uuid import UUID

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

PROJECTED_AT_HEADER = "X-Read-Model-Projected-At"

PROJECTED_AT_HEADER_PARAMETER = OpenApiParameter(
    PROJECTED_AT_HEADER,
    OpenApiTypes.DATETIME,
    OpenApiParameter.HEADER,
    response=[200],
    description=(
        "How fresh this answer is: the newest `projected_at` of the rows "
        "returned (for an empty page, of the whole read model). Absent while "
        "nothing has been projected yet."
    ),
)


def with_projected_at(
    response: Response,
    rows: Iterable,
    *,
    whole_model: Callable[[], datetime | None] | None = None,
) -> Response:
    """Set the staleness header from the rows returned (or the whole read model)."""
    stamps = [row.projected_at for row in rows if row.projected_at is not None]
    newest = max(stamps, default=None)
    if newest is None and whole_model is not None:
        newest = whole_model()
    if newest is not None:
        response[PROJECTED_AT_HEADER] = serializers.DateTimeField().to_representation(
            newest
        )
    return response


def read_model_page(
    view: APIView,
    request: Request,
    rows: Iterable,
    serializer_class: type[serializers.Serializer],
    *,
    whole_model: Callable[[], datetime | None],
) -> Response:
    """A list API's answer: one page of read-model rows, with the header."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(rows, request, view=view)
    response = paginator.get_paginated_response(serializer_class(page, many=True).data)
    return with_projected_at(response, page, whole_model=whole_model)


def read_model_row(row, serializer_class: type[serializers.Serializer]) -> Response:
    """A detail API's answer: one read-model row, with the header."""
    return with_projected_at(Response(serializer_class(row).data), [row])


# A detail route matches its id as any segment (``<str:...>``) and checks it
# here, so that "abc" is a 400 that says why, not a bare 404.


def read_model_id_parameter(name: str) -> OpenApiParameter:
    """The OpenAPI description of a detail route's id segment."""
    return OpenApiParameter(
        name,
        OpenApiTypes.UUID,
        OpenApiParameter.PATH,
        description="400 when it is not a UUID; 404 when unknown.",
    )


def read_model_id(name: str, value: str) -> UUID:
    """The path segment ``name`` as a UUID; 400 naming the segment if it is not."""
    try:
        return serializers.UUIDField().run_validation(value)
    except ValidationError as error:
        raise ValidationError({name: error.detail}) from None

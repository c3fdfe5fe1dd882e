"""How fresh a query-API answer is: the X-Read-Model-Projected-At header.

Both services' query APIs (approach 5) state it the same way: the newest
``projected_at`` of the rows returned, or, for an empty page, of the whole
read model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.response import Response

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

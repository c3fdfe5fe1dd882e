"""How fresh a query-API answer is: the X-Read-Model-Projected-At header.

Both services' query APIs (approach 5) state it the same way: the newest
``projected_at`` of the rows returned, or, for a staff user's empty page, of
the whole read model. ``read_model_page`` and ``read_model_row`` are the two
answers a query API gives (a page, one row), each with the header: a learner
should notice that no answer of the read side leaves its staleness out, and
that none tells a caller more than its rows do. A customer user's empty page
has no header: the whole read model's newest row is another customer's, and
its time would tell when others act.

Read your writes: a client that has just changed an aggregate knows the
version its write made, and a detail API lets it say so: ``?min_version=N``
(``read_model_row_reaching``). The API then waits, at most
``READ_YOUR_WRITES_WAIT_SECONDS``, for the read model's row to reach version
N, and answers it; if the projection is further behind than that, it answers
409 with ``Retry-After`` instead of a row older than the client's own write.
409, not 425 Too Early: 425 (RFC 8470) tells a client that sent TLS early
data to resend after the handshake, which clients and proxies may act on;
409 says what happened, the request conflicts with the resource's current
state (it is at an older version), and is already the platform's answer
when versions do not line up (``expected_version``). A learner should
notice the price: the waiting request holds a worker thread, which is why
the wait is bounded and short.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from service_kit.access import request_scope

PROJECTED_AT_HEADER = "X-Read-Model-Projected-At"

PROJECTED_AT_HEADER_PARAMETER = OpenApiParameter(
    PROJECTED_AT_HEADER,
    OpenApiTypes.DATETIME,
    OpenApiParameter.HEADER,
    response=[200],
    description=(
        "How fresh this answer is: the newest `projected_at` of the rows "
        "returned (for a staff user's empty page, of the whole read model). "
        "Absent while nothing has been projected yet, and on a customer "
        "user's empty page."
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
    """A list API's answer: one page of read-model rows, with the header.

    ``whole_model`` states an empty page's staleness to those who may see
    every customer's rows (staff) and to no one else.
    """
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(rows, request, view=view)
    response = paginator.get_paginated_response(serializer_class(page, many=True).data)
    if not request_scope(request).everyone:
        whole_model = None
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


# READ YOUR WRITES: ?min_version=N on a detail API
# ------------------------------------------------------------------------------

MIN_VERSION = "min_version"
# How long a detail API waits for its row to reach the version asked for, and
# how often it looks again meanwhile.
READ_YOUR_WRITES_WAIT_SECONDS = 2.0
READ_YOUR_WRITES_POLL_SECONDS = 0.05
# What a 409 tells the client to wait before asking again (Retry-After).
READ_YOUR_WRITES_RETRY_AFTER = 1
# An aggregate's version is a PostgreSQL integer column.
LARGEST_VERSION = 2**31 - 1

Row = TypeVar("Row")

MIN_VERSION_PARAMETER = OpenApiParameter(
    MIN_VERSION,
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    description=(
        "Read your writes: the version your write made (the `version` the "
        "command API answered). The API waits, at most "
        f"{READ_YOUR_WRITES_WAIT_SECONDS:g} s, for the row to reach it; if it "
        "has not by then, 409 with `Retry-After` (never an older row)."
    ),
)

READ_MODEL_BEHIND_RESPONSE = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description=(
        "`min_version` not reached in time: the read model has not projected "
        "your write yet. `min_version` repeats what was asked, "
        "`projected_version` is the row's version (null while the row is not "
        "there, or not yours). Retry after `Retry-After` seconds."
    ),
)


class ReadModelBehind(APIException):
    """The read model has not reached the version the client wrote: 409."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "read_model_behind"

    def __init__(self, *, wanted: int, projected: int | None) -> None:
        shown = "nothing yet" if projected is None else f"version {projected}"
        message = (
            f"the read model has not reached version {wanted} yet (it shows "
            f"{shown}) after {READ_YOUR_WRITES_WAIT_SECONDS:g} s: your change is "
            f"still being projected; retry in {READ_YOUR_WRITES_RETRY_AFTER} s"
        )
        super().__init__(message)
        # DRF's exception handler sends Retry-After for an exception's ``wait``.
        self.wait = READ_YOUR_WRITES_RETRY_AFTER
        self.detail = {
            "detail": ErrorDetail(message, code=self.default_code),
            MIN_VERSION: wanted,
            "projected_version": projected,
        }


def requested_min_version(request) -> int | None:
    """The ``min_version`` query parameter; None when absent, 400 naming it if
    it is not a version (a whole number from 1)."""
    value = request.query_params.get(MIN_VERSION)
    if value is None:
        return None
    field = serializers.IntegerField(min_value=1, max_value=LARGEST_VERSION)
    try:
        return field.run_validation(value)
    except ValidationError as error:
        raise ValidationError({MIN_VERSION: error.detail}) from None


def pause(seconds: float) -> None:
    """Wait between two looks at the read model (replaced in tests)."""
    time.sleep(seconds)


def read_model_row_reaching(
    request, fetch: Callable[[], Row], *, version_field: str
) -> Row:
    """The row ``fetch`` returns, once its ``version_field`` has reached the
    request's ``min_version`` (at once without one).

    ``fetch`` is the detail API's selector, scope included, and raises Http404
    for an unknown row: with ``min_version`` a missing row is waited for like
    an old one (the client says it wrote it), and another customer's row is
    never seen, so it answers exactly as an unknown one (409 after the wait).
    """
    wanted = requested_min_version(request)
    if wanted is None:
        return fetch()
    deadline = time.monotonic() + READ_YOUR_WRITES_WAIT_SECONDS
    while True:
        try:
            row = fetch()
        except Http404:
            row = None
        version = getattr(row, version_field) if row is not None else None
        if version is not None and version >= wanted:
            return row
        if time.monotonic() >= deadline:
            raise ReadModelBehind(wanted=wanted, projected=version)
        pause(READ_YOUR_WRITES_POLL_SECONDS)

"""The one pagination of every list API: limit and offset, at most 100 a page.

A client may ask for ``?limit=1000``; it gets 100 items and the ``next`` link
to the rest, never an unbounded page that ties up a worker and the database.
"""

from collections.abc import Callable, Iterable
from typing import Any

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

MAX_PAGE_SIZE = 100


class CappedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_PAGE_SIZE
    limit_query_description = (
        f"Number of results to return per page (at most {MAX_PAGE_SIZE}; a "
        "larger limit returns that many)."
    )


def paginated_response(
    view: APIView, request: Request, items: Iterable, serialize: Callable[[list], Any]
) -> Response:
    """One page of ``items`` from ``view``'s paginator, each item serialized.

    ``serialize`` turns the page (a list) into its JSON-ready data; the
    paginator wraps it with ``count``, ``next`` and ``previous``.
    """
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(serialize(page))

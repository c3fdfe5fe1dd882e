"""The one pagination of every list API: limit and offset, at most 100 a page.

A client may ask for ``?limit=1000``; it gets 100 items and the ``next`` link
to the rest, never an unbounded page that ties up a worker and the database.
"""

from rest_framework.pagination import LimitOffsetPagination

MAX_PAGE_SIZE = 100


class CappedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_PAGE_SIZE
    limit_query_description = (
        f"Number of results to return per page (at most {MAX_PAGE_SIZE}; a "
        "larger limit returns that many)."
    )

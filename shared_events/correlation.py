"""The correlation id of the request being handled, for the events it causes.

A client may send ``X-Correlation-ID``; every event a request records carries
it, so a learner can follow one action across both services and the broker.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar

_correlation_id: ContextVar[uuid.UUID | None] = ContextVar(
    "correlation_id", default=None
)

HEADER = "HTTP_X_CORRELATION_ID"


def current_correlation_id() -> uuid.UUID | None:
    return _correlation_id.get()


class CorrelationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            correlation_id = uuid.UUID(request.META.get(HEADER, ""))
        except ValueError:
            correlation_id = uuid.uuid4()
        token = _correlation_id.set(correlation_id)
        try:
            response = self.get_response(request)
        finally:
            _correlation_id.reset(token)
        response["X-Correlation-ID"] = str(correlation_id)
        return response

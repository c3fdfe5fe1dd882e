"""The correlation id of a request: ``X-Correlation-ID`` in, and back out.

A client may send ``X-Correlation-ID``; every event a request records carries
it (``shared_events.correlation``), so a learner can follow one action across
both services and the broker. A request without one (or with one that is not
a UUID) gets a new one. Either way the response names it.
"""

from __future__ import annotations

import uuid

from shared_events.correlation import correlation_id_set

HEADER = "HTTP_X_CORRELATION_ID"


class CorrelationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            correlation_id = uuid.UUID(request.META.get(HEADER, ""))
        except ValueError:
            correlation_id = uuid.uuid4()
        with correlation_id_set(correlation_id):
            response = self.get_response(request)
        response["X-Correlation-ID"] = str(correlation_id)
        return response

"""The correlation id of a request: ``X-Correlation-ID`` in, and back out.

A client may send ``X-Correlation-ID``; every event a request records carries
it (``shared_events.correlation``), so a learner can follow one action across
both services and the broker. A request without one (or with one that is not
a UUID) gets a new one. Either way the response names it.

The gateway in front (``stack.gateway_config``) gives every request an
``X-Request-ID`` and a W3C ``traceparent``; the response names them too
(``X-Request-ID``, and the trace id as ``X-Trace-ID``), so a caller can quote
the ids the access log, this service and the events share. With tracing
on, ``X-Trace-ID`` names the trace the request is recorded in, with or
without a gateway in front.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from shared_events.correlation import correlation_id_set, current_correlation_id
from shared_events.telemetry.tracing import current_trace_id

HEADER = "HTTP_X_CORRELATION_ID"
REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
TRACEPARENT_HEADER = "HTTP_TRACEPARENT"
# What is echoed must be well-formed (the gateway's own patterns).
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")


_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The gateway's request id of the request being served, if any."""
    return _request_id.get()


def forwarded_headers() -> dict[str, str]:
    """What a call to another service carries of the request being served:
    its correlation id and the gateway's request id, so both services' logs
    and events name the same action. (With tracing on, the ``requests``
    instrumentation adds the ``traceparent`` itself.)"""
    headers = {}
    if (correlation_id := current_correlation_id()) is not None:
        headers["X-Correlation-ID"] = str(correlation_id)
    if (request_id := current_request_id()) is not None:
        headers["X-Request-ID"] = request_id
    return headers


class CorrelationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            correlation_id = uuid.UUID(request.META.get(HEADER, ""))
        except ValueError:
            correlation_id = uuid.uuid4()
        request_id = request.META.get(REQUEST_ID_HEADER, "")
        if not REQUEST_ID.fullmatch(request_id):
            request_id = ""
        # The trace this request is recorded in (the server span's, when
        # tracing is on), else the one its traceparent names.
        trace_id = current_trace_id()
        if trace_id is None and (
            trace := TRACEPARENT.fullmatch(request.META.get(TRACEPARENT_HEADER, ""))
        ):
            trace_id = trace.group(1)
        token = _request_id.set(request_id or None)
        try:
            with correlation_id_set(correlation_id):
                response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Correlation-ID"] = str(correlation_id)
        if request_id:
            response["X-Request-ID"] = request_id
        if trace_id is not None:
            response["X-Trace-ID"] = trace_id
        return response

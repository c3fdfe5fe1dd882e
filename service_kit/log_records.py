"""JSON log lines that name the request, the trace and the correlation.

Every log record of a service's processes gets the ids a learner follows
one command by: the trace and span (OpenTelemetry's current span), the
correlation id (the request's, or the event's a consumer is applying) and
the gateway's request id. ``python-json-logger`` writes them, one JSON
document per line (``LOGGING`` in ``service_kit.settings.base``;
``LOG_FORMAT=plain`` for the old text lines).
"""

from __future__ import annotations

import logging

from opentelemetry import trace
from pythonjsonlogger.core import RESERVED_ATTRS

from service_kit.api.correlation import current_request_id
from shared_events.correlation import current_cause, current_correlation_id

JSON_FIELDS = (
    "%(asctime)s %(levelname)s %(name)s %(message)s "
    "%(trace_id)s %(span_id)s %(correlation_id)s %(request_id)s"
)
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}
# Left out of the JSON: Django's request logger passes the request itself,
# whose text holds the query string (a client's parameters do not belong in
# the logs); its method and path are in the message.
LEFT_OUT = [*RESERVED_ATTRS, "request"]


class RequestContext(logging.Filter):
    """Adds ``trace_id``, ``span_id``, ``correlation_id`` and ``request_id``
    (None where there is none) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        span = trace.get_current_span().get_span_context()
        record.trace_id = f"{span.trace_id:032x}" if span.is_valid else None
        record.span_id = f"{span.span_id:016x}" if span.is_valid else None
        correlation = current_correlation_id()
        if correlation is None and (cause := current_cause()) is not None:
            correlation = cause.correlation_id
        record.correlation_id = str(correlation) if correlation else None
        record.request_id = current_request_id()
        return True


def logging_config(*, level: str, log_format: str) -> dict:
    """Django's ``LOGGING``: JSON lines (or plain text) on stderr, with the ids."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": RequestContext}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": JSON_FIELDS,
                "rename_fields": RENAMED,
                "reserved_attrs": LEFT_OUT,
            },
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }

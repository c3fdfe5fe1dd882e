"""Log lines are JSON documents naming the trace, the correlation and the request."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import uuid

import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from service_kit.api.correlation import REQUEST_ID_HEADER, CorrelationMiddleware
from service_kit.log_records import logging_config
from shared_events.correlation import caused_by_event
from shared_events.events import new_envelope


@pytest.fixture
def captured():
    """The project's LOGGING, writing to a buffer instead of stderr."""
    config = logging_config(level="INFO", log_format="json")
    config["handlers"]["console"]["stream"] = stream = io.StringIO()
    config["root"]["handlers"] = ["console"]
    logging.config.dictConfig(config)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


def a_span() -> NonRecordingSpan:
    return NonRecordingSpan(
        SpanContext(
            trace_id=0x0AF7651916CD43DD8448EB211C80319C,
            span_id=0xB7AD6B7169203331,
            is_remote=False,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
    )


def test_a_line_inside_a_request_names_its_trace_correlation_and_request(captured, rf):
    correlation = uuid.uuid4()

    def view(request):
        logging.getLogger("customers").warning("refused %s", "this")
        from django.http import HttpResponse

        return HttpResponse()

    request = rf.get(
        "/api/customers/",
        HTTP_X_CORRELATION_ID=str(correlation),
        **{REQUEST_ID_HEADER: "req-123"},
    )
    with trace.use_span(a_span()):
        CorrelationMiddleware(view)(request)

    [line] = [entry for entry in captured() if entry["logger"] == "customers"]
    assert line["message"] == "refused this"
    assert line["level"] == "WARNING"
    assert line["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert line["span_id"] == "b7ad6b7169203331"
    assert line["correlation_id"] == str(correlation)
    assert line["request_id"] == "req-123"
    assert "time" in line


def test_a_consumer_line_carries_the_correlation_of_the_event_it_applies(captured):
    envelope = new_envelope(
        event_type="CustomerDeleted",
        aggregate_type="customer",
        aggregate_id=uuid.uuid4(),
        aggregate_version=2,
        producer="customer",
        payload={},
    )
    with caused_by_event(envelope):
        logging.getLogger("orders").info("cancelling")
    logging.getLogger("orders").info("idle")

    applying, idle = [e for e in captured() if e["logger"] == "orders"]
    assert applying["correlation_id"] == str(envelope.correlation_id)
    assert idle["correlation_id"] is None and idle["request_id"] is None
    assert idle["trace_id"] is None


def test_a_request_logged_by_django_leaves_its_query_string_out(captured, rf):
    """django.request passes the request as ``extra``: its status code is
    kept, the request (whose text holds the query string) is not."""
    request = rf.get("/api/customers/?token=secret-value")
    logging.getLogger("django.request").warning(
        "Not Found: %s", request.path, extra={"status_code": 404, "request": request}
    )

    [line] = [e for e in captured() if e["logger"] == "django.request"]
    assert line["message"] == "Not Found: /api/customers/"
    assert line["status_code"] == 404
    assert "request" not in line
    assert "secret-value" not in json.dumps(line)

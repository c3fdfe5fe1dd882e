"""The local span receiver: what the OTLP exporter sends is stored as sent."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest
import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from stack import environment, postgres
from stack.connections import open_connection
from stack.span_receiver import (
    TELEMETRY_DATABASE,
    prepare_database,
    start_span_receiver,
)
from stack.span_store import Span, load_trace, store_spans

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def receiver():
    environment.ensure_local_secrets()
    server = os.environ.get(
        "DATABASE_SERVER_URL"
    ) or environment.ensure_database_server(prefer_external=True)
    prefix = f"sr{os.getpid()}_"
    url = prepare_database(server_url=server, prefix=prefix, fresh=True)
    started = start_span_receiver(database_url=url)
    yield started, url
    started.stop()
    postgres.drop_databases(server_url=server, names=[prefix + TELEMETRY_DATABASE])


def stored(url: str, trace_id: str, count: int):
    deadline = time.monotonic() + 10
    while True:
        with open_connection(url, autocommit=True) as connection:
            spans = load_trace(connection, trace_id)
        if len(spans) >= count or time.monotonic() > deadline:
            return spans
        time.sleep(0.1)


def test_spans_exported_over_otlp_are_stored_with_their_links(receiver):
    started, url = receiver
    provider = TracerProvider(resource=Resource.create({"service.name": "probe"}))
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{started.base_url}/v1/traces"))
    )
    tracer = provider.get_tracer("probe")
    with (
        tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent,
        tracer.start_as_current_span("child", attributes={"n": 3, "ok": True}),
    ):
        pass
    provider.shutdown()

    trace_id = f"{parent.get_span_context().trace_id:032x}"
    spans = stored(url, trace_id, 2)
    assert [s.name for s in spans] == ["parent", "child"]
    first, second = spans
    assert first.parent_span_id is None and first.kind == "server"
    assert second.parent_span_id == first.span_id
    assert second.attributes == {"n": 3, "ok": True}
    assert {s.service for s in spans} == {"probe"}
    assert first.start_ns <= second.start_ns <= second.end_ns <= first.end_ns


def test_a_gateway_access_line_over_udp_becomes_the_gateways_span(receiver):
    started, url = receiver
    trace_id, span_id, parent = "ab" * 16, "cd" * 8, "ef" * 8
    line = {
        "method": "POST",
        "path": "/customers/register/",
        "status": 201,
        "duration_ms": 12,
        "start_ms": 1_800_000_000_000,
        "request_id": "udp-probe-1",
        "traceparent": f"00-{trace_id}-{span_id}-01",
        "parent_traceparent": f"00-{trace_id}-{parent}-01",
        "route": "customers",
    }
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(json.dumps(line).encode(), ("127.0.0.1", started.log_port))

    [span] = stored(url, trace_id, 1)
    assert (span.span_id, span.parent_span_id) == (span_id, parent)
    assert span.service == "gateway" and span.name == "gateway POST customers"
    assert span.duration_ms == 12
    assert span.attributes["request_id"] == "udp-probe-1"


def test_what_is_not_an_otlp_export_is_refused_with_the_reason(receiver):
    started, _url = receiver
    as_json = requests.post(
        f"{started.base_url}/v1/traces", json={"resourceSpans": []}, timeout=5
    )
    garbage = requests.post(
        f"{started.base_url}/v1/traces",
        data=b"\xff\x00not protobuf",
        headers={"Content-Type": "application/x-protobuf"},
        timeout=5,
    )
    elsewhere = requests.post(f"{started.base_url}/v1/logs", data=b"", timeout=5)

    assert as_json.status_code == 415 and "protobuf" in as_json.text
    assert garbage.status_code == 400 and "not an OTLP export" in garbage.text
    assert elsewhere.status_code == 404
    assert requests.get(f"{started.base_url}/health", timeout=5).status_code == 200


def test_spans_older_than_the_retention_are_deleted_at_start(receiver):
    """``make up`` keeps its span database from run to run: what is older
    than the retention goes when a receiver starts."""
    _started, url = receiver
    old, recent = "01" * 16, "02" * 16
    with open_connection(url, autocommit=True) as connection:
        store_spans(connection, [probe_span(old), probe_span(recent)])
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE spans SET received_at = now() - interval '3 hours' "
                "WHERE trace_id = %s",
                [old],
            )
    another = start_span_receiver(database_url=url, retention_hours=2)
    try:
        assert _gone(url, old)
        assert [s.trace_id for s in stored(url, recent, 1)] == [recent]
    finally:
        another.stop()


def _gone(url: str, trace_id: str) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open_connection(url, autocommit=True) as connection:
            if not load_trace(connection, trace_id):
                return True
        time.sleep(0.1)
    return False


def probe_span(trace_id: str) -> Span:
    return Span(
        trace_id=trace_id,
        span_id="ab" * 8,
        parent_span_id=None,
        name="probe",
        kind="server",
        service="probe",
        start_ns=1,
        end_ns=2,
    )

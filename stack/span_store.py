"""Where the local platform keeps its spans: one PostgreSQL table, ``spans``.

On a team's setup the processes export to Jaeger (``docker-compose.yml``);
here no trace viewer can be installed, so the span receiver
(``stack.span_receiver``) writes what it is sent into this table, in its own
database (``<prefix>telemetry``), and the lab and ``manage.py trace`` read
it back (``observe.traces``).

Two sources fill it: OTLP export requests from every Python process
(``spans_of_export``), and the gateway's JSON access-log lines
(``span_of_access_line``): HAProxy records no spans itself, but each line
names the trace, the span id the gateway gave the request, its parent, its
start and its duration, which is all a span is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS spans (
    trace_id text NOT NULL,
    span_id text NOT NULL,
    parent_span_id text,
    name text NOT NULL,
    kind text NOT NULL,
    service text NOT NULL,
    start_ns bigint NOT NULL,
    end_ns bigint NOT NULL,
    status text NOT NULL,
    status_message text NOT NULL DEFAULT '',
    attributes jsonb NOT NULL DEFAULT '{}',
    links jsonb NOT NULL DEFAULT '[]',
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX IF NOT EXISTS spans_by_request ON spans ((attributes->>'request_id'));
"""
COLUMNS = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "service",
    "start_ns",
    "end_ns",
    "status",
    "status_message",
    "attributes",
    "links",
)
GATEWAY_SERVICE = "gateway"
# OTLP's SpanKind and StatusCode numbers, by name.
KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client"}
KINDS |= {4: "producer", 5: "consumer"}
STATUSES = {0: "unset", 1: "ok", 2: "error"}


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    service: str
    start_ns: int
    end_ns: int
    status: str = "unset"
    status_message: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    links: tuple[Mapping[str, str], ...] = ()

    def row(self) -> tuple:
        return (
            self.trace_id,
            self.span_id,
            self.parent_span_id,
            self.name,
            self.kind,
            self.service,
            self.start_ns,
            self.end_ns,
            self.status,
            self.status_message,
            json.dumps(dict(self.attributes), default=str),
            json.dumps(list(self.links)),
        )

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


def store_spans(connection, spans: Iterable[Span]) -> int:
    """Insert ``spans``; one already stored (an export tried again) is kept."""
    rows = [span.row() for span in spans]
    if not rows:
        return 0
    placeholders = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO spans ({', '.join(COLUMNS)}) VALUES "
            + ", ".join(cursor.mogrify(placeholders, row).decode() for row in rows)
            + " ON CONFLICT (trace_id, span_id) DO NOTHING"
        )
        return cursor.rowcount


def load_trace(connection, trace_id: str) -> list[Span]:
    """Every span of one trace, earliest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(COLUMNS)} FROM spans WHERE trace_id = %s "
            "ORDER BY start_ns, end_ns DESC",
            [trace_id],
        )
        return [_span_of_row(row) for row in cursor.fetchall()]


def _span_of_row(row: tuple) -> Span:
    values = dict(zip(COLUMNS, row, strict=True))
    values["links"] = tuple(values["links"])
    return Span(**values)


# --- OTLP -----------------------------------------------------------------------


def spans_of_export(body: bytes) -> list[Span]:
    """The spans of one OTLP/HTTP protobuf export request."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest.FromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        service = str(resource.get("service.name", "unknown"))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    Span(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex() or None,
                        name=span.name,
                        kind=KINDS.get(span.kind, "unspecified"),
                        service=service,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        status=STATUSES.get(span.status.code, "unset"),
                        status_message=span.status.message,
                        attributes=_attributes(span.attributes),
                        links=tuple(
                            {
                                "trace_id": link.trace_id.hex(),
                                "span_id": link.span_id.hex(),
                            }
                            for link in span.links
                        ),
                    )
                )
    return spans


def _attributes(key_values) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in key_values}


def _value(any_value) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(any_value.kvlist_value.values)
    if kind == "bytes_value":
        return any_value.bytes_value.hex()
    return getattr(any_value, kind) if kind else None


# --- the gateway's access log ---------------------------------------------------


def span_of_access_line(line: str) -> Span | None:
    """The gateway's span for one access-log line; None for any other line."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    outgoing = _traceparent_parts(entry.get("traceparent"))
    start_ms = entry.get("start_ms")
    if outgoing is None or not isinstance(start_ms, int):
        return None
    trace_id, span_id = outgoing
    incoming = _traceparent_parts(entry.get("parent_traceparent"))
    status = entry.get("status")
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=incoming[1] if incoming else None,
        name=f"gateway {entry.get('method', '-')} {entry.get('route', '-')}",
        kind="server",
        service=GATEWAY_SERVICE,
        start_ns=start_ms * 1_000_000,
        end_ns=(start_ms + max(int(entry.get("duration_ms") or 0), 0)) * 1_000_000,
        status="error" if isinstance(status, int) and status >= 500 else "unset",
        attributes={
            "http.request.method": entry.get("method"),
            "url.path": entry.get("path"),
            "http.response.status_code": status,
            "client.address": entry.get("client"),
            "request_id": entry.get("request_id"),
            "enduser.id": entry.get("subject"),
            "gateway.route": entry.get("route"),
            "gateway.backend": entry.get("backend"),
        },
    )


def _traceparent_parts(value: object) -> tuple[str, str] | None:
    if not isinstance(value, str):
        return None
    parts = value.split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    return parts[1], parts[2]

"""Reading a trace back: every span of one command, as a tree.

The spans are where the local span receiver keeps them
(``stack.span_store``). A trace is found by its id (the ``X-Trace-ID`` a
service answers with) or by the gateway's request id (``X-Request-ID``);
``render_trace`` draws it the way a trace viewer does, one line per span,
indented under its parent, with when it started after the trace began and
how long it took:

      0.0 ms  gateway  gateway DELETE customers  (42.1 ms)
      0.9 ms    customer-web  DELETE ^api/customers/(?P<pk>...)$  (38.2 ms)
     ...
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

from stack.connections import open_connection
from stack.span_store import Span, load_trace


def trace_spans(database_url: str, trace_id: str) -> list[Span]:
    with open_connection(database_url, autocommit=True) as connection:
        return load_trace(connection, trace_id)


def trace_id_of_request(database_url: str, request_id: str) -> str | None:
    """The trace the gateway put a request in, from its span's request id."""
    with (
        open_connection(database_url, autocommit=True) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT trace_id FROM spans WHERE attributes->>'request_id' = %s "
            "ORDER BY start_ns LIMIT 1",
            [request_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def latest_trace_id(database_url: str) -> str | None:
    """The trace of the latest request the gateway or a service received."""
    with (
        open_connection(database_url, autocommit=True) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT trace_id FROM spans WHERE parent_span_id IS NULL "
            "AND kind = 'server' ORDER BY start_ns DESC LIMIT 1"
        )
        row = cursor.fetchone()
    return row[0] if row else None


def wait_for_trace(
    database_url: str,
    trace_id: str,
    *,
    until: Callable[[list[Span]], bool],
    timeout: float = 20.0,
) -> list[Span]:
    """The trace's spans once ``until`` holds for them, or as they are at the
    timeout: spans arrive in batches, each process exporting on its own."""
    deadline = time.monotonic() + timeout
    while True:
        spans = trace_spans(database_url, trace_id)
        if until(spans) or time.monotonic() > deadline:
            return spans
        time.sleep(0.2)


def orphans(spans: list[Span]) -> list[Span]:
    """Spans whose parent is not in the trace (a trace's root has none)."""
    ids = {span.span_id for span in spans}
    return [
        span
        for span in spans
        if span.parent_span_id is not None and span.parent_span_id not in ids
    ]


def render_trace(spans: list[Span]) -> str:
    """One line per span, children under their parent, in start order."""
    if not spans:
        return "(no spans)"
    children: dict[str | None, list[Span]] = defaultdict(list)
    ids = {span.span_id for span in spans}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children[parent].append(span)
    began = min(span.start_ns for span in spans)
    lines: list[str] = []

    def draw(span: Span, depth: int) -> None:
        offset = (span.start_ns - began) / 1e6
        error = "  ERROR" if span.status == "error" else ""
        lines.append(
            f"{offset:9.1f} ms  {'  ' * depth}{span.service}  {span.name}  "
            f"({span.duration_ms:.1f} ms){error}"
        )
        for child in sorted(children[span.span_id], key=lambda s: s.start_ns):
            draw(child, depth + 1)

    for root in sorted(children[None], key=lambda s: s.start_ns):
        draw(root, 0)
    return "\n".join(lines)

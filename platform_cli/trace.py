"""``manage.py trace``: one command's trace, drawn from the local span store.

The platform that ``manage.py up`` runs exports every process's spans to
its span receiver (``stack.span_receiver``); this reads one trace back and
draws it (``observe.traces.render_trace``). Name it by the ``X-Trace-ID`` or
the ``X-Request-ID`` a response carried, or ask for the latest.
"""

from __future__ import annotations

import argparse
import os
import re

import psycopg2

from observe.traces import (
    latest_trace_id,
    render_trace,
    trace_id_of_request,
    trace_spans,
)
from platform_cli.errors import PlatformError
from shared_events.configuration import load_env
from stack import environment, postgres
from stack.span_receiver import telemetry_database_url

NAME = "trace"
HELP = "draw one request's trace (by X-Trace-ID or X-Request-ID) from the spans"
DESCRIPTION = (
    "Draw every span of one trace, indented under its parent, with when it "
    "started and how long it took: the gateway, the web process, the relay and "
    "its broker call, the consumers and projectors. 'make up' records the spans; "
    "name the trace by the X-Trace-ID or X-Request-ID of a response, or --latest."
)
TRACE_ID = re.compile(r"[0-9a-f]{32}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "id", nargs="?", help="a trace id (32 hex digits) or a gateway request id"
    )
    which.add_argument(
        "--latest", action="store_true", help="the latest request's trace"
    )


def run(options: argparse.Namespace) -> int:
    # Reading spans never starts a server: with none configured, only the
    # embedded one `make up` started (and `make stop` stops) holds any.
    configured = load_env().str("DATABASE_SERVER_URL", default="")
    if not configured and not postgres.embedded_running(environment.EMBEDDED_DATA_DIR):
        raise PlatformError(
            "no spans recorded: no database server runs ('make up' starts the "
            "platform with its span receiver, or set DATABASE_SERVER_URL)"
        )
    server = environment.ensure_database_server()
    if not server:
        raise PlatformError(
            "traces are kept on the platform's database server: set DATABASE_SERVER_URL"
        )
    url = telemetry_database_url(
        server_url=server, prefix=os.environ.get("DATABASE_NAME_PREFIX", "")
    )
    try:
        trace_id = _trace_id(url, options)
        spans = trace_spans(url, trace_id) if trace_id else []
    except psycopg2.OperationalError as error:
        raise PlatformError(
            f"no spans recorded yet ({str(error).strip().splitlines()[0]}): "
            "'make up' starts the platform with its span receiver"
        ) from None
    if not spans:
        raise PlatformError(
            f"no spans for {options.id or 'the latest request'}: spans arrive a "
            "moment after the request (try again), and only while 'make up' runs"
        )
    print(f"trace {trace_id}: {len(spans)} spans")
    print(render_trace(spans))
    return 0


def _trace_id(url: str, options: argparse.Namespace) -> str | None:
    if options.latest:
        return latest_trace_id(url)
    if TRACE_ID.fullmatch(options.id):
        return options.id
    return trace_id_of_request(url, options.id)

"""The local span receiver: OTLP in, PostgreSQL out (``stack.span_store``).

Every process of a local platform exports its spans with the standard OTLP
exporter, configured by the standard variables (``OTEL_EXPORTER_OTLP_ENDPOINT``
pointing here); on a team's setup the same variables point at Jaeger. The
gateway's access log reaches it as syslog over UDP (HAProxy's ``log``
target), each line becoming the gateway's span.

Written by hand on purpose, and kept small: no OpenTelemetry Collector,
Jaeger or Tempo can be installed here (only the Python packages), and what
the lab needs of one is to keep spans where it can read them. It takes
``POST /v1/traces`` with a protobuf body (gzip or not), as the exporter
sends; a JSON body is refused with 415, naming what is accepted.

    python -m stack.span_receiver --database-url URL --port P --log-port Q

Spans older than a day (``--retention-hours``) are deleted at start and
every hour: ``make up`` keeps its span database between runs.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import os
import signal
import socketserver
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
from psycopg2.pool import ThreadedConnectionPool

from shared_events.configuration import REPO_DIR
from stack import postgres
from stack.loopback import HOST, free_port, free_udp_port
from stack.processes import LOG_DIR, ServiceProcess, wait_healthy
from stack.span_store import SCHEMA, span_of_access_line, spans_of_export, store_spans

logger = logging.getLogger("span_receiver")
NAME = "span-receiver"
TELEMETRY_DATABASE = "telemetry"
TRACES_PATH = "/v1/traces"
HEALTH_PATH = "/health"
PROTOBUF = "application/x-protobuf"
# Bigger export requests are refused: the exporter's batches are far smaller.
MAX_BODY_BYTES = 16 * 1024 * 1024
# Spans older than this are deleted when the receiver starts and every hour
# after: `make up` keeps its span database from one run to the next.
RETENTION_HOURS = 24
PRUNE_EVERY_SECONDS = 3600


def telemetry_database_url(*, server_url: str, prefix: str) -> str:
    return f"{server_url.rstrip('/')}/{prefix}{TELEMETRY_DATABASE}"


def prepare_database(*, server_url: str, prefix: str, fresh: bool) -> str:
    """The run's span database, with its table; emptied first when ``fresh``."""
    name = prefix + TELEMETRY_DATABASE
    if fresh:
        postgres.drop_databases(server_url=server_url, names=[name])
    postgres.create_databases(server_url=server_url, names=[name])
    url = telemetry_database_url(server_url=server_url, prefix=prefix)
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(SCHEMA)
    connection.close()
    return url


class _Receiver:
    def __init__(self, database_url: str) -> None:
        self.pool = ThreadedConnectionPool(1, 4, database_url)

    def prune(self, *, retention_hours: float) -> int:
        """Delete the spans received more than ``retention_hours`` ago."""
        connection = self.pool.getconn()
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM spans WHERE received_at < now() - "
                    "make_interval(secs => %s)",
                    [retention_hours * 3600],
                )
                return cursor.rowcount
        finally:
            self.pool.putconn(connection)

    def store(self, spans) -> int:
        connection = self.pool.getconn()
        try:
            with connection:
                return store_spans(connection, spans)
        finally:
            self.pool.putconn(connection)


def _http_handler(receiver: _Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == HEALTH_PATH:
                self._answer(200, b"ok", "text/plain")
            else:
                self._answer(404, b"only POST /v1/traces and GET /health", "text/plain")

        def do_POST(self) -> None:
            if self.path != TRACES_PATH:
                self._answer(404, b"spans are sent to POST /v1/traces", "text/plain")
                return
            if self.headers.get("Content-Type", "").split(";")[0] != PROTOBUF:
                self._answer(415, f"send OTLP as {PROTOBUF}".encode(), "text/plain")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._answer(413, b"export request too large", "text/plain")
                return
            body = self.rfile.read(length)
            try:
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                spans = spans_of_export(body)
            except Exception as error:  # a malformed request, not our failure
                self._answer(400, f"not an OTLP export: {error}".encode(), "text/plain")
                return
            try:
                receiver.store(spans)
            except psycopg2.Error as error:
                # 503 tells the exporter to try again later.
                logger.warning("spans not stored: %s", error)
                self._answer(503, b"span store unavailable", "text/plain")
                return
            # An empty ExportTraceServiceResponse: zero bytes of protobuf.
            self._answer(200, b"", PROTOBUF)

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            return  # one line per export would drown the log

    return Handler


def _log_handler(receiver: _Receiver) -> type[socketserver.BaseRequestHandler]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data = self.request[0].decode("utf-8", errors="replace")
            # Raw format: the line itself, perhaps with a syslog header before
            # the JSON document.
            start = data.find("{")
            span = span_of_access_line(data[start:]) if start >= 0 else None
            if span is None:
                return
            try:
                receiver.store([span])
            except psycopg2.Error as error:
                logger.warning("gateway span not stored: %s", error)

    return Handler


def serve(
    *,
    database_url: str,
    port: int,
    log_port: int,
    retention_hours: float = RETENTION_HOURS,
) -> None:
    receiver = _Receiver(database_url)
    stopping = threading.Event()

    def prune() -> None:
        while True:
            try:
                pruned = receiver.prune(retention_hours=retention_hours)
                if pruned:
                    logger.info(
                        "%d spans older than %g h deleted", pruned, retention_hours
                    )
            except psycopg2.Error as error:
                logger.warning("old spans not deleted: %s", error)
            if stopping.wait(PRUNE_EVERY_SECONDS):
                return

    threading.Thread(target=prune, daemon=True).start()
    http = ThreadingHTTPServer((HOST, port), _http_handler(receiver))
    udp = socketserver.ThreadingUDPServer((HOST, log_port), _log_handler(receiver))
    for server in (http, udp):
        server.daemon_threads = True
    threading.Thread(target=udp.serve_forever, daemon=True).start()

    def stop(signum, frame) -> None:
        stopping.set()
        threading.Thread(target=http.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        f"receiving spans on http://{HOST}:{port}{TRACES_PATH} and gateway "
        f"access-log lines on udp://{HOST}:{log_port}",
        flush=True,
    )
    try:
        http.serve_forever()
    finally:
        udp.shutdown()
        http.server_close()
        udp.server_close()
        receiver.pool.closeall()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stack.span_receiver",
        description="Receive OTLP spans (and the gateway's access log) into "
        "PostgreSQL, for the local platform.",
    )
    parser.add_argument("--database-url", required=True, help="the span database")
    parser.add_argument("--port", type=int, required=True, help="OTLP/HTTP port")
    parser.add_argument(
        "--log-port", type=int, required=True, help="UDP port for access-log lines"
    )
    parser.add_argument(
        "--retention-hours",
        type=float,
        default=RETENTION_HOURS,
        help=f"delete spans older than this, at start and hourly "
        f"(default {RETENTION_HOURS})",
    )
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    serve(
        database_url=arguments.database_url,
        port=arguments.port,
        log_port=arguments.log_port,
        retention_hours=arguments.retention_hours,
    )
    return 0


@dataclass
class SpanReceiver(ServiceProcess):
    """The running receiver, with where to send spans and access-log lines."""

    log_port: int = 0

    def spans_environment(self) -> dict[str, str]:
        """What sends a platform's spans here: the standard ``OTEL_*``
        settings of every process, and the gateway's ``GATEWAY_SPAN_LOG``."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.base_url,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "GATEWAY_SPAN_LOG": f"{HOST}:{self.log_port}",
        }


def start_span_receiver(
    *,
    database_url: str,
    env: Mapping[str, str] | None = None,
    retention_hours: float = RETENTION_HOURS,
) -> SpanReceiver:
    """Start the receiver on free loopback ports; wait until it answers."""
    port, log_port = free_port(), free_udp_port()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{NAME}-{port}.log"
    log_file = open(log_path, "w")  # noqa: SIM115 (closed by ServiceProcess.stop)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stack.span_receiver",
            "--database-url",
            database_url,
            "--port",
            str(port),
            "--log-port",
            str(log_port),
            "--retention-hours",
            str(retention_hours),
        ],
        cwd=REPO_DIR,
        env={**os.environ, **(env or {}), "PYTHONPATH": str(REPO_DIR)},
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    receiver = SpanReceiver(NAME, port, process, log_path, log_file, log_port)
    wait_healthy(receiver, timeout=30, path=HEALTH_PATH, what="the span receiver")
    return receiver


if __name__ == "__main__":
    sys.exit(main())

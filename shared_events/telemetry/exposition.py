"""Answering a scrape: what ``/metrics`` holds, who may read it, and the
workers' own small metrics server.

What a learner should notice:

* One scrape, every worker. Under gunicorn (``PROMETHEUS_MULTIPROC_DIR``
  set) each worker process writes its counts to files in that folder, and
  the process that answers the scrape adds them all up
  (``MultiProcessCollector``); otherwise the answer is this process's own
  registry. Either way the scrape-time collectors (the outbox, a queue's
  depth) are asked once per scrape, by the process that answers it.
* Closed by default. ``/metrics`` tells how busy a service is and what goes
  wrong in it, so it answers only a request that carries
  ``Authorization: Bearer <METRICS_TOKEN>`` (401 otherwise); where no token
  is configured it answers nobody, and a worker starts no server at all.
  Prometheus sends the token from a file (``credentials_file``).
* A worker (relay, consumer, projector, the functions runner) serves no
  HTTP of its own, so ``start_metrics_server`` gives it one: a thread
  serving ``/metrics`` on ``METRICS_PORT``, bound to loopback unless
  ``METRICS_BIND`` says otherwise (``0.0.0.0`` in a container, where
  Prometheus is another host).
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry, make_wsgi_app
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class _ThisProcess:
    """The process's own registry, as one collector of a scrape's registry."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def scrape_registry(collectors: Iterable[object] = ()) -> CollectorRegistry:
    """A registry of what one scrape answers: every gunicorn worker's counts
    (or this process's), then each scrape-time collector."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_VARIABLE):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    for collector in collectors:
        registry.register(collector)
    return registry


def bearer_token_matches(authorization: str, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>``.

    An empty ``token`` (none configured) matches nothing. The comparison
    takes the same time however much of the token a guess got right.
    """
    scheme, _, given = authorization.partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


UNAUTHORIZED_BODY = (
    b"401: /metrics needs the header 'Authorization: Bearer <METRICS_TOKEN>'\n"
)


def metrics_wsgi_app(registry: CollectorRegistry, *, token: str) -> Callable:
    """prometheus-client's WSGI app behind the bearer token, on /metrics only."""
    exposition = make_wsgi_app(registry)

    def app(environ, start_response):
        if environ.get("PATH_INFO") != METRICS_PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"404: only /metrics is served here\n"]
        if not bearer_token_matches(environ.get("HTTP_AUTHORIZATION", ""), token):
            start_response(
                "401 Unauthorized",
                [
                    ("Content-Type", "text/plain"),
                    ("WWW-Authenticate", 'Bearer realm="metrics"'),
                ],
            )
            return [UNAUTHORIZED_BODY]
        return exposition(environ, start_response)

    return app


class _Server(ThreadingMixIn, WSGIServer):
    """One thread per scrape; none of them keeps the process alive."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """No access log line per scrape (one every few seconds, forever)."""

    def log_message(self, format, *args) -> None:  # noqa: A002 (the base's name)
        pass


def start_metrics_server(
    *, port: int, bind: str, token: str, collectors: Iterable[object] = ()
) -> WSGIServer:
    """Serve ``/metrics`` on ``bind:port`` from a daemon thread; the server.

    Raises ``OSError`` when the port is taken: a worker told to expose its
    metrics there should not start silently without them.
    """
    app = metrics_wsgi_app(scrape_registry(collectors), token=token)
    server = make_server(
        bind, port, app, server_class=_Server, handler_class=_QuietHandler
    )
    thread = threading.Thread(
        target=server.serve_forever, name="metrics-server", daemon=True
    )
    thread.start()
    return server

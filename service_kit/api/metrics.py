"""A web process's metrics: each request counted by route, and ``/metrics``.

``HttpMetricsMiddleware`` (the service's outermost middleware, so a request
refused by any later one is counted too) times every request and counts its
answer under the route Django matched: ``api/customers/<uuid:customer_id>/``,
never the path sent, so a million customers are one time series, and a path
nothing matched is ``unmatched``.

``MetricsView`` answers Prometheus on the service's own port, with
``Authorization: Bearer <METRICS_TOKEN>`` only (``shared_events.telemetry``
says why); the gateway does not route it, so no client from outside reaches
it. Besides the counters of every gunicorn worker it reads, at scrape time:

- the outbox backlog and its oldest row's age, where this service relays
  from an outbox (approaches 4 and 5 on PostgreSQL): the web process owns
  the same database, so the backlog shows while the relay is stopped;
- how stale each consumer's newest applied event is, in every database this
  process opens that consumers write to (the replica of approaches 3 and 4,
  the read database of approach 5).

A plain Django view, not a DRF one: no API authentication, throttle or
content negotiation applies to a scrape; the bearer token is its only check.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpResponse
from django.views import View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared_events.composition import service_wiring
from shared_events.telemetry import metrics
from shared_events.telemetry.exposition import (
    UNAUTHORIZED_BODY,
    bearer_token_matches,
    scrape_registry,
)
from shared_events.telemetry.metrics import (
    OutboxCollector,
    ParkedEventsCollector,
    StalenessCollector,
    http_request_answered,
)

UNMATCHED_ROUTE = "unmatched"


class HttpMetricsMiddleware:
    def __init__(self, get_response):
        if not metrics.ENABLED:  # METRICS_ENABLED=false: Django drops it
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        http_request_answered(
            service=settings.SERVICE_NAME,
            route=match.route if match is not None else UNMATCHED_ROUTE,
            method=request.method,
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response


class MetricsView(View):
    http_method_names = ["get"]

    def get(self, request):
        authorization = request.headers.get("Authorization", "")
        if not bearer_token_matches(authorization, settings.METRICS_TOKEN):
            response = HttpResponse(
                UNAUTHORIZED_BODY, status=401, content_type="text/plain"
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        registry = scrape_registry(scrape_time_collectors())
        return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def scrape_time_collectors() -> list[object]:
    """What this process reads at scrape time, by what it opens."""
    collectors: list[object] = []
    opened = [
        alias
        for alias, config in settings.DATABASES.items()
        if config.get("ENGINE", "django.db.backends.dummy")
        != "django.db.backends.dummy"
    ]
    # Where the composition root gave the service an outbox relay (approaches
    # 4 and 5 on PostgreSQL): the web process owns the outbox's database.
    if service_wiring().publisher_factory is not None and "default" in opened:
        collectors.append(OutboxCollector(service=settings.SERVICE_NAME))
    # What consumers applied, in every database this process opens (the
    # replica, the read database); none applied anything under approaches 1
    # and 2, so no sample there.
    collectors.append(StalenessCollector(databases=opened))
    # And what they parked, waiting for an event before it.
    collectors.append(ParkedEventsCollector(databases=opened))
    return collectors

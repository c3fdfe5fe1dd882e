"""Metrics: who may read a process's ``/metrics``, and where a worker serves it.

Read by ``service_kit.api.metrics`` (the web and query processes' view) and
``shared_events.management.worker_metrics`` (the workers' own server).
"""

from service_kit.settings.base import env

# METRICS (shared_events.telemetry)
# ------------------------------------------------------------------------------
# /metrics answers only "Authorization: Bearer <METRICS_TOKEN>". Generated
# locally into var/platform.env; docker-compose.yml requires it. Unset, no
# process answers a scrape.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# A worker (relay, consumer, projector, functions runner) serves its /metrics
# on this port; unset, it serves none. The web and query processes answer
# /metrics on their own HTTP port instead.
METRICS_PORT = env.int("METRICS_PORT", default=None)
# The address a worker's metrics server binds: loopback unless told otherwise
# (0.0.0.0 in a container, where Prometheus is another host).
METRICS_BIND = env.str("METRICS_BIND", default="127.0.0.1")

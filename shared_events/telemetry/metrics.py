"""Prometheus metrics: what every process counts, and what a scrape reads.

Every metric of the platform is defined here, once, so a learner reads in one
place what the dashboards and the alert rules (``deploy/prometheus/``) can
ask. Two kinds, and the difference is the lesson:

* **Counted as it happens**, in the process that does the work: HTTP
  requests and their latency by route (the web and query processes), events
  relayed and refused by the broker (the relay), events applied, duplicate,
  held, retried and dead-lettered, and how long each applied event took
  from its commit to its effect (consumers, projectors, Lambda handlers),
  and how far behind its stream the event source mapping runner checkpoints.
  A counter only ever grows; it starts again at 0 when its process does, and
  PromQL's ``rate()`` and ``increase()`` understand that.
* **Read at scrape time** (``collect()`` of a collector, run by each
  ``/metrics`` request): the outbox backlog and its oldest row's age, a
  dead-letter queue's depth, a read model's staleness. These are states, not
  events: asked of the database or the queue when Prometheus asks, they are
  true even when the process that would have counted them is stopped (the
  outbox is read by the web process, which owns the same database, so a
  stopped relay still shows its backlog growing).

Labels stay few and bounded: a route is Django's pattern
(``api/customers/<uuid:customer_id>/``), never the path a client sent, and
consumer, queue and mapping names come from the topology. An unbounded label
(an id, a raw path) would make a new time series per value.

Under gunicorn each worker is its own process: ``PROMETHEUS_MULTIPROC_DIR``
(set by ``manage.py serve``) makes them write their counts to files that one
scrape adds up (``exposition``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger(__name__)

# --- counted as it happens -------------------------------------------------------

HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by service, Django route pattern, method and status.",
    ["service", "route", "method", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from a request's arrival in Django to its answer, by route and method.",
    ["service", "route", "method"],
)

RELAY_PUBLISHED = Counter(
    "relay_published_events",
    "Outbox events the broker accepted, by service and destination (sns, sqs, "
    "kinesis).",
    ["service", "destination"],
)
RELAY_FAILED = Counter(
    "relay_failed_events",
    "Outbox events the broker did not accept (retried later with backoff), by "
    "service and destination.",
    ["service", "destination"],
)

CONSUMER_EVENTS = Counter(
    "consumer_events",
    "Events a consumer handled, by consumer and outcome: applied, duplicate "
    "(already applied: no effect), held (ahead of its aggregate), retry "
    "(failed, to be received again), dead_lettered.",
    ["consumer", "outcome"],
)
# From milliseconds (one machine, an idle platform) to minutes (a backlog
# after an outage).
LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
CONSUMER_LAG = Histogram(
    "consumer_commit_to_apply_seconds",
    "From an event's occurred_at (its producer's commit) to its effect in this "
    "consumer's transaction, for each event applied.",
    ["consumer"],
    buckets=LAG_BUCKETS,
)

# A gauge set as it happens: under PROMETHEUS_MULTIPROC_DIR, the value of the
# process that set it last, while that process lives.
MAPPING_CHECKPOINT_LAG = Gauge(
    "event_source_mapping_checkpoint_lag_seconds",
    "Age of the newest stream record the local event source mapping runner "
    "checkpointed, when it did (AWS Lambda's IteratorAge), by mapping.",
    ["mapping"],
    multiprocess_mode="livemostrecent",
)


def metrics_enabled(env: Mapping[str, str] = os.environ) -> bool:
    """``METRICS_ENABLED`` (true unless ``false``): whether this process counts.

    Off, every function below returns at once, the web processes drop their
    middleware and the workers serve no ``/metrics``: what the benchmarks
    compare against (``bench/observability.py``).
    """
    return env.get("METRICS_ENABLED", "true").lower() not in ("false", "0", "no")


ENABLED = metrics_enabled()


def http_request_answered(
    *, service: str, route: str, method: str, status: int, seconds: float
) -> None:
    if not ENABLED:
        return
    HTTP_REQUESTS.labels(service, route, method, str(status)).inc()
    HTTP_REQUEST_DURATION.labels(service, route, method).observe(seconds)


def destination_of(publisher: Any) -> str:
    """The broker a publisher sends to, named by its adapter: ``SnsPublisher``
    is "sns". A wrapper (the tracing one) names the publisher it wraps as
    ``inner``."""
    while hasattr(publisher, "inner"):
        publisher = publisher.inner
    return type(publisher).__name__.removesuffix("Publisher").lower() or "unknown"


def events_relayed(
    *, service: str, publisher: Any, published: int, failed: int
) -> None:
    if not ENABLED:
        return
    destination = destination_of(publisher)
    if published:
        RELAY_PUBLISHED.labels(service, destination).inc(published)
    if failed:
        RELAY_FAILED.labels(service, destination).inc(failed)


def event_handled(*, consumer: str, outcome: str) -> None:
    if not ENABLED:
        return
    CONSUMER_EVENTS.labels(consumer, outcome).inc()


def event_applied(*, consumer: str, occurred_at: datetime) -> None:
    """An event took effect now: how long after its producer committed it."""
    if not ENABLED:
        return
    CONSUMER_LAG.labels(consumer).observe(
        max(time.time() - occurred_at.timestamp(), 0.0)
    )


def stream_checkpointed(*, mapping: str, arrival: float) -> None:
    """A mapping checkpointed a record that reached its stream at ``arrival``
    (epoch seconds)."""
    if not ENABLED:
        return
    MAPPING_CHECKPOINT_LAG.labels(mapping).set(max(time.time() - arrival, 0.0))


# --- read at scrape time -----------------------------------------------------------


class ScrapeTimeCollector:
    """A collector that asks a database or a queue on each scrape.

    ``describe`` names the families without asking anything, so registering
    one costs nothing. An answer that fails leaves its samples out of that
    scrape (Prometheus then shows the series absent) and is logged: a
    scrape never fails because a database or a queue is down.
    """

    def describe(self) -> Iterable[Metric]:
        return self.families()

    def families(self) -> list[GaugeMetricFamily]:
        raise NotImplementedError

    def collect(self) -> Iterator[Metric]:
        families = self.families()
        try:
            self.fill(*families)
        except Exception as error:  # a scrape reports, never raises
            logger.warning("%s: not read this scrape: %s", type(self).__name__, error)
            return
        yield from families

    def fill(self, *families: GaugeMetricFamily) -> None:
        raise NotImplementedError


OUTBOX_BACKLOG_QUERY = (
    "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)"
    " FROM event_outbox WHERE published_at IS NULL"
)


class OutboxCollector(ScrapeTimeCollector):
    """The outbox's unpublished rows and the oldest one's age, in ``database``.

    Both come from the partial index of unpublished rows, so a scrape stays
    cheap however long the published history grows.
    """

    def __init__(self, *, service: str, database: str = "default") -> None:
        self.service = service
        self.database = database

    def families(self) -> list[GaugeMetricFamily]:
        return [
            GaugeMetricFamily(
                "outbox_unpublished_events",
                "Outbox rows committed and not yet accepted by the broker.",
                labels=["service"],
            ),
            GaugeMetricFamily(
                "outbox_oldest_unpublished_age_seconds",
                "Age of the oldest unpublished outbox row (0 when none waits).",
                labels=["service"],
            ),
        ]

    def fill(self, backlog: GaugeMetricFamily, oldest: GaugeMetricFamily) -> None:
        from django.db import connections

        with connections[self.database].cursor() as cursor:
            cursor.execute(OUTBOX_BACKLOG_QUERY)
            count, age = cursor.fetchone()
        backlog.add_metric([self.service], count)
        oldest.add_metric([self.service], float(age))


def rows_in(databases: Sequence[str], query: str) -> Iterator[tuple]:
    """Every row ``query`` answers in each of these databases, in turn."""
    from django.db import connections

    for database in databases:
        with connections[database].cursor() as cursor:
            cursor.execute(query)
            yield from cursor.fetchall()


# For each consumer of a database, the newest event it applied. The consumers
# are few, the records many: their names are found by walking the unique
# index (consumer, event_id) one name at a time, and each one's newest row by
# the index on processed_at, so no scrape reads the whole table.
STALENESS_QUERY = """
WITH RECURSIVE consumers(name) AS (
    (SELECT consumer FROM event_processed ORDER BY consumer LIMIT 1)
    UNION ALL
    SELECT (SELECT consumer FROM event_processed WHERE consumer > name
            ORDER BY consumer LIMIT 1)
    FROM consumers WHERE name IS NOT NULL
)
SELECT name, EXTRACT(EPOCH FROM now() - newest.occurred_at)
FROM consumers CROSS JOIN LATERAL (
    SELECT occurred_at FROM event_processed
    WHERE consumer = consumers.name ORDER BY processed_at DESC LIMIT 1
) newest
WHERE name IS NOT NULL
"""


class StalenessCollector(ScrapeTimeCollector):
    """How old the newest fact each consumer applied is, in these databases.

    Seconds since the ``occurred_at`` of the newest event a consumer applied
    (its processed-event record): the age of what a read model, or a
    replica, last learned. It grows while nothing happens as well as while a
    consumer falls behind; compare it with the producer's activity, or alert
    on ``consumer_commit_to_apply_seconds``, which only a late event moves.
    """

    def __init__(self, *, databases: Sequence[str]) -> None:
        self.databases = tuple(databases)

    def families(self) -> list[GaugeMetricFamily]:
        return [
            GaugeMetricFamily(
                "read_model_staleness_seconds",
                "Seconds since the occurred_at of the newest event this "
                "consumer applied (its read model's or replica's newest fact).",
                labels=["consumer"],
            )
        ]

    def fill(self, staleness: GaugeMetricFamily) -> None:
        for consumer, seconds in rows_in(self.databases, STALENESS_QUERY):
            staleness.add_metric([consumer], max(float(seconds), 0.0))


PARKED_EVENTS_QUERY = (
    "SELECT consumer, count(*), EXTRACT(EPOCH FROM now() - min(held_at))"
    " FROM event_held GROUP BY consumer"
)


class ParkedEventsCollector(ScrapeTimeCollector):
    """Events each consumer parked, waiting for the one before them
    (``shared_events.consume.held_events``), and the oldest one's age.

    A few for a moment is normal on an unordered queue; a count that stays,
    with an age that grows towards ``EVENT_GAP_PATIENCE_SECONDS``, is a gap
    on its way to the dead-letter queue.
    """

    def __init__(self, *, databases: Sequence[str]) -> None:
        self.databases = tuple(databases)

    def families(self) -> list[GaugeMetricFamily]:
        return [
            GaugeMetricFamily(
                "consumer_parked_events",
                "Events this consumer received ahead of their turn and parked.",
                labels=["consumer"],
            ),
            GaugeMetricFamily(
                "consumer_oldest_parked_age_seconds",
                "Age of the oldest event this consumer parked.",
                labels=["consumer"],
            ),
        ]

    def fill(self, parked: GaugeMetricFamily, oldest: GaugeMetricFamily) -> None:
        for consumer, count, age in rows_in(self.databases, PARKED_EVENTS_QUERY):
            parked.add_metric([consumer], count)
            oldest.add_metric([consumer], max(float(age), 0.0))


class DeadLetterQueueCollector(ScrapeTimeCollector):
    """The messages waiting in dead-letter queues (SQS
    ``ApproximateNumberOfMessages``), asked of SQS on each scrape.

    ``sqs`` is a boto3 SQS client; give it short timeouts and no retries, so
    a broker that does not answer delays a scrape by seconds, not minutes.
    """

    def __init__(self, *, sqs: Any, queue_urls: Iterable[str]) -> None:
        self.sqs = sqs
        self.queue_urls = sorted(set(queue_urls))

    def families(self) -> list[GaugeMetricFamily]:
        return [
            GaugeMetricFamily(
                "dead_letter_queue_messages",
                "Messages in a dead-letter queue (SQS ApproximateNumberOfMessages): "
                "events no consumer could apply, each with its reason.",
                labels=["queue"],
            )
        ]

    def fill(self, depth: GaugeMetricFamily) -> None:
        for url in self.queue_urls:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            depth.add_metric(
                [url.rsplit("/", 1)[-1]],
                int(attributes["ApproximateNumberOfMessages"]),
            )

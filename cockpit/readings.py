"""One reading of each source of a live number, bounded by a timeout.

Each function asks one source once and answers its number, or raises: the
caller (``cockpit.live_numbers``) turns a failure, or an answer too late,
into ``None``. The sources are the platform's own: a process's Prometheus
counters, its database, the broker.

What a learner should notice: a number is read where it lives. A queue's
depth is asked of SQS, not counted by the consumer; an outbox's backlog is
asked of the database the web server commits to, so it keeps growing while
the relay is stopped, which is exactly when one wants to see it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import psycopg2
import requests
from prometheus_client.parser import text_string_to_metric_families

from cockpit.model import Box, BoxKind, table_stream_box_id
from observe.lag import measure_lag
from observe.quiescence import (
    PARKED_EVENTS,
    PENDING_OUTBOX_ROWS,
    QUEUE_DEPTH_ATTRIBUTES,
)
from observe.stream_backlog import StreamBacklog, watched_mappings
from shared_events.event_source_mapping import SourceKind
from shared_events.telemetry.metrics import STALENESS_QUERY
from shared_events.transport.clients import AwsSettings, client
from shared_events.transport.topology import platform_topology

Value = float | int | None
#: The consumer lag is the p95 of each consumer's last this many events.
LAG_EVENTS = 50
#: Routes a process answers that no client asked for: scrapes, health checks.
UNCOUNTED_ROUTES = ("metrics", "api/health/")


def requests_served(*, url: str, token: str, timeout: float) -> Value:
    """Requests a web process answered, from its ``/metrics`` (its gunicorn
    workers' counts added up), scrapes and health checks left out."""
    answer = requests.get(
        url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
    )
    answer.raise_for_status()
    return sum(
        int(sample.value)
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
        if sample.name == "http_requests_total"
        and sample.labels.get("route") not in UNCOUNTED_ROUTES
    )


def _query(url: str, statement: str, timeout: float) -> list[tuple]:
    connection = psycopg2.connect(
        url,
        connect_timeout=max(1, round(timeout)),
        options=f"-c statement_timeout={int(timeout * 1000)}",
    )
    try:
        connection.set_session(readonly=True, autocommit=True)
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall()
    finally:
        connection.close()


def outbox_backlog(*, url: str, timeout: float) -> Value:
    """Outbox rows committed and not yet accepted by the broker."""
    return int(_query(url, PENDING_OUTBOX_ROWS, timeout)[0][0])


def staleness(*, url: str, timeout: float) -> Value:
    """Seconds since the newest fact the stalest consumer of a read database
    applied; None before any was (nothing is stale yet, nor fresh)."""
    rows = _query(url, STALENESS_QUERY, timeout)
    return max((max(float(seconds), 0.0) for _, seconds in rows), default=None)


def queue_depth(*, endpoint: str, name: str, timeout: float) -> Value:
    """A queue's messages as SQS counts them: waiting, being handled and
    delayed. The queue must exist and the answer carry every count asked
    for: a local AWS may answer success for what it does not do, and a
    missing count is not a zero."""
    sqs = client(
        "sqs",
        AwsSettings(
            endpoint_url=endpoint,
            connect_timeout=timeout,
            read_timeout=timeout,
            max_attempts=1,
        ),
    )
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=QUEUE_DEPTH_ATTRIBUTES
    )["Attributes"]
    if not set(QUEUE_DEPTH_ATTRIBUTES) <= attributes.keys():
        return None
    return sum(int(attributes[count]) for count in QUEUE_DEPTH_ATTRIBUTES)


def consumer_lag(
    *, url: str, boxes: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Value]:
    """The p95 commit-to-apply lag (ms) of each (box, consumer) recording in
    one database; a consumer that applied nothing yet has none."""
    report = measure_lag({"database": url}, last=LAG_EVENTS)
    p95 = {
        lag.consumer: round(lag.stats.p95_ms, 1)
        for lag in report.consumers
        if lag.stats.p95_ms is not None
    }
    return {(box_id, "consumer_lag"): p95.get(consumer) for box_id, consumer in boxes}


def parked_events(
    *, url: str, boxes: Sequence[tuple[str, str]], timeout: float
) -> dict[tuple[str, str], Value]:
    """The events each (box, consumer) recording in one database received
    ahead of their turn and parked there (``event_held``) until the event
    before them is applied: a count that stays is a gap on its way to the
    dead-letter queue."""
    counts = {consumer: int(n) for consumer, n in _query(url, PARKED_EVENTS, timeout)}
    return {
        (box_id, "parked_events"): counts.get(consumer, 0) for box_id, consumer in boxes
    }


def stream_backlogs(
    *,
    approach: str,
    delivery: str,
    store: str,
    read_side: bool,
    endpoint: str,
    prefix: str,
    checkpoint_files: Mapping[str, Path],
    boxes: Sequence[Box],
) -> dict[tuple[str, str], Value]:
    """Per stream box, the records its slowest reader has not got past: a
    Kinesis stream's by its consumers' and projectors' mappings, an event
    table's stream by its publishing function's."""
    watched = watched_mappings(
        approach=approach,
        delivery=delivery,
        store=store,
        prefix=prefix,
        read_side=read_side,
    )
    if not watched:
        return {}
    counts = StreamBacklog(
        watched=watched, endpoint_url=endpoint, checkpoint_files=checkpoint_files
    ).counts()
    named = platform_topology(prefix=prefix, delivery=delivery, read_side=read_side)
    drawn = platform_topology(delivery=delivery, read_side=read_side)
    found: dict[tuple[str, str], Value] = {}
    for box in boxes:
        if box.kind is not BoxKind.STREAM:
            continue
        if box.id == table_stream_box_id(drawn.event_table_name(box.owner)):
            kind = SourceKind.DYNAMODB_STREAM
            source = named.event_table_name(box.owner)
        else:
            kind, source = SourceKind.KINESIS, named.stream_name(box.owner)
        readers = [
            counts[entry.name]
            for entry in watched
            if entry.mapping.source_kind is kind and entry.mapping.source_name == source
        ]
        found[(box.id, "stream_backlog")] = max(readers, default=None)
    return found

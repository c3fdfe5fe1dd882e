"""The metrics, in process: what each counter counts, what each collector reads.

Every number is produced the real way: outbox rows and processed-event
records in PostgreSQL, messages in a moto queue received by the real
consumer, requests through Django's full middleware stack, a scrape over
HTTP. Counters are process-wide and only grow, so each test compares a
counter before and after (or uses names of its own).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.db import connection
from django.test import override_settings
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from shared_events.configuration import REPO_DIR
from shared_events.consume import EventConsumer
from shared_events.consume.tracking import Outcome
from shared_events.models import HeldEvent, ProcessedEvent
from shared_events.outbox import relay_batch
from shared_events.outbox.tests.relay_support import append_customer_events
from shared_events.telemetry import metrics
from shared_events.telemetry.exposition import (
    bearer_token_matches,
    start_metrics_server,
)
from shared_events.testing import customer_events
from shared_events.testing.signing import signed
from shared_events.transport import AwsSettings, ConsumerSettings, RecordingPublisher
from shared_events.transport import client as aws_client
from stack.loopback import free_port
from stack.moto_server import MotoServer

TOKEN = "metrics-test-token"


def sample(name: str, **labels: str) -> float:
    """A sample of this process's registry; 0 for one never counted."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(text: str) -> dict[tuple[str, tuple], float]:
    """A scrape's samples by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- counted as it happens ---------------------------------------------------------


@pytest.mark.django_db
def test_the_relay_counts_what_the_broker_accepted_and_refused():
    event_ids = append_customer_events(3)
    publisher = RecordingPublisher(failures={event_ids[1]: "refused"})
    labels = {"service": "customer", "destination": "recording"}
    published = sample("relay_published_events_total", **labels)
    failed = sample("relay_failed_events_total", **labels)

    relay_batch(publisher=publisher)

    assert sample("relay_published_events_total", **labels) == published + 2
    assert sample("relay_failed_events_total", **labels) == failed + 1


@pytest.mark.django_db
def test_with_metrics_disabled_nothing_is_counted(monkeypatch):
    """METRICS_ENABLED=false: the benchmarks' baseline counts nothing, and a
    web process leaves the counting middleware out."""
    from django.core.exceptions import MiddlewareNotUsed

    from service_kit.api.metrics import HttpMetricsMiddleware

    assert not metrics.metrics_enabled({"METRICS_ENABLED": "false"})
    assert metrics.metrics_enabled({})
    monkeypatch.setattr(metrics, "ENABLED", False)
    event_ids = append_customer_events(2)
    labels = {"service": "customer", "destination": "recording"}
    published = sample("relay_published_events_total", **labels)
    handled = sample("consumer_events_total", consumer="order", outcome="applied")

    relay_batch(publisher=RecordingPublisher())
    metrics.event_handled(consumer="order", outcome="applied")

    assert len(event_ids) == 2
    assert sample("relay_published_events_total", **labels) == published
    assert (
        sample("consumer_events_total", consumer="order", outcome="applied") == handled
    )
    with pytest.raises(MiddlewareNotUsed):
        HttpMetricsMiddleware(lambda request: None)


def test_a_wrapped_publisher_is_named_by_the_one_it_wraps():
    class Wrapper:
        def __init__(self, inner):
            self.inner = inner

    assert metrics.destination_of(Wrapper(RecordingPublisher())) == "recording"


@pytest.fixture
def aws(moto_server: MotoServer) -> Iterator[AwsSettings]:
    """The session's moto server, empty before and after the test."""
    moto_server.reset()
    yield AwsSettings(endpoint_url=moto_server.endpoint_url)
    moto_server.reset()


@pytest.fixture
def inbox(aws: AwsSettings) -> ConsumerSettings:
    """A real queue on moto, read by a consumer of the test's own name."""
    sqs = aws_client("sqs", aws)
    url = sqs.create_queue(QueueName=f"metrics-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    return ConsumerSettings(
        name=f"metrics-{uuid.uuid4().hex[:8]}-inbox",
        queue_url=url,
        dead_letter_queue_url=None,
        max_receive_count=5,
        wait_time_seconds=0,
    )


@pytest.mark.django_db
def test_the_consumer_counts_each_outcome_and_the_lag_of_what_it_applied(aws, inbox):
    sqs = aws_client("sqs", aws)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    event = customer_events.registered(uuid.uuid4())
    late = dataclasses.replace(
        customer_events.registered(uuid.uuid4()), occurred_at=an_hour_ago
    )
    for body in (signed(event), signed(event), signed(late), "not an event"):
        sqs.send_message(QueueUrl=inbox.queue_url, MessageBody=body)
    consumer = EventConsumer(settings=inbox, sqs=sqs, handlers={})

    outcomes = []
    while len(outcomes) < 4:
        outcomes += consumer.poll_once()

    assert sorted(outcomes) == sorted(
        [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.APPLIED, Outcome.RETRY]
    )
    name = inbox.name
    assert sample("consumer_events_total", consumer=name, outcome="applied") == 2
    assert sample("consumer_events_total", consumer=name, outcome="duplicate") == 1
    assert sample("consumer_events_total", consumer=name, outcome="retry") == 1
    lag = "consumer_commit_to_apply_seconds"
    assert sample(f"{lag}_count", consumer=name) == 2
    # The event an hour old is past every bucket below an hour, the fresh one
    # is not.
    assert sample(f"{lag}_bucket", consumer=name, le="300.0") == 1
    assert sample(f"{lag}_bucket", consumer=name, le="+Inf") == 2
    assert sample(f"{lag}_sum", consumer=name) >= 3600


def test_a_checkpoint_sets_how_old_its_record_was():
    an_hour_ago = datetime.now(UTC).timestamp() - 3600
    metrics.stream_checkpointed(mapping="metrics-test-mapping", arrival=an_hour_ago)

    lag = sample(
        "event_source_mapping_checkpoint_lag_seconds", mapping="metrics-test-mapping"
    )
    assert 3600 <= lag < 7200


# --- read at scrape time -----------------------------------------------------------


@pytest.mark.django_db
def test_the_outbox_collector_reads_the_unpublished_rows_and_the_oldest_age():
    event_ids = append_customer_events(3)
    relay_batch(publisher=RecordingPublisher(failures={event_ids[0]: "refused"}))
    append_customer_events(2)
    with connection.cursor() as cursor:  # one row waiting for an hour
        cursor.execute(
            "UPDATE event_outbox SET created_at = now() - interval '1 hour'"
            " WHERE event_id = %s",
            [event_ids[0]],
        )

    families = {f.name: f for f in metrics.OutboxCollector(service="c").collect()}

    [backlog] = families["outbox_unpublished_events"].samples
    [oldest] = families["outbox_oldest_unpublished_age_seconds"].samples
    assert backlog.labels == {"service": "c"} and backlog.value == 3
    assert oldest.value == 3600  # now() is the transaction's: exact


@pytest.mark.django_db
def test_an_empty_outbox_has_no_backlog_and_no_age():
    families = {f.name: f for f in metrics.OutboxCollector(service="c").collect()}

    assert families["outbox_unpublished_events"].samples[0].value == 0
    assert families["outbox_oldest_unpublished_age_seconds"].samples[0].value == 0


def processed(consumer: str, occurred_at: datetime) -> None:
    ProcessedEvent.objects.create(
        consumer=consumer,
        event_id=uuid.uuid4(),
        event_type="CustomerRegistered",
        aggregate_id=uuid.uuid4(),
        aggregate_version=1,
        occurred_at=occurred_at,
    )


@pytest.mark.django_db
def test_staleness_is_the_age_of_each_consumers_newest_applied_event():
    now = datetime.now(UTC)
    processed("behind-inbox", now - timedelta(days=2))
    processed("behind-inbox", now - timedelta(days=1))  # applied last: newest
    processed("current-inbox", now - timedelta(days=3))
    processed("current-inbox", now)

    [family] = metrics.StalenessCollector(databases=["default"]).collect()

    staleness = {s.labels["consumer"]: s.value for s in family.samples}
    assert set(staleness) == {"behind-inbox", "current-inbox"}
    assert 86400 <= staleness["behind-inbox"] < 2 * 86400
    assert staleness["current-inbox"] < 86400


@pytest.mark.django_db
def test_parked_events_are_counted_per_consumer_with_the_oldest_age():
    def park(consumer: str, version: int) -> None:
        HeldEvent.objects.create(
            consumer=consumer,
            event_id=uuid.uuid4(),
            aggregate_id=uuid.uuid4(),
            aggregate_version=version,
            body="{}",
            message_id=str(version),
        )

    park("order-inbox", 3)
    park("order-inbox", 4)
    park("customer-read-inbox", 2)
    HeldEvent.objects.filter(aggregate_version=3).update(
        held_at=datetime.now(UTC) - timedelta(minutes=2)
    )

    parked, oldest = metrics.ParkedEventsCollector(databases=["default"]).collect()

    assert {s.labels["consumer"]: s.value for s in parked.samples} == {
        "order-inbox": 2,
        "customer-read-inbox": 1,
    }
    ages = {s.labels["consumer"]: s.value for s in oldest.samples}
    assert 100 <= ages["order-inbox"] < 200
    assert ages["customer-read-inbox"] < 60


def test_the_dead_letter_collector_asks_sqs_each_scrape(aws):
    sqs = aws_client("sqs", aws)
    url = sqs.create_queue(QueueName="metrics-inbox-dlq")["QueueUrl"]
    collector = metrics.DeadLetterQueueCollector(sqs=sqs, queue_urls=[url])

    def depth() -> float:
        [family] = collector.collect()
        [only] = family.samples
        assert only.labels == {"queue": "metrics-inbox-dlq"}
        return only.value

    assert depth() == 0
    sqs.send_message(QueueUrl=url, MessageBody="a letter")
    sqs.send_message(QueueUrl=url, MessageBody="another")
    assert depth() == 2


def test_a_queue_that_does_not_answer_leaves_its_samples_out(aws):
    sqs = aws_client("sqs", aws)
    missing = sqs.create_queue(QueueName="metrics-gone")["QueueUrl"]
    sqs.delete_queue(QueueUrl=missing)
    collector = metrics.DeadLetterQueueCollector(sqs=sqs, queue_urls=[missing])

    assert list(collector.collect()) == []


# --- the web process's /metrics ------------------------------------------------------


@pytest.mark.django_db
@override_settings(
    METRICS_TOKEN=TOKEN, ARCHITECTURE_APPROACH="event_sourcing", EVENT_STORE="postgres"
)
def test_web_metrics_need_the_token_and_count_requests_by_route(client):
    append_customer_events(2)
    customer = uuid.uuid4()
    client.get("/api/health/")
    client.get(f"/api/customers/{customer}/")  # 401: no credentials
    client.get("/no/such/path/")

    refused = client.get("/metrics")
    wrong = client.get("/metrics", headers=bearer("not-it"))
    answer = client.get("/metrics", headers=bearer(TOKEN))

    assert refused.status_code == wrong.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert answer.status_code == 200
    samples = scraped(answer.content.decode())

    def requests_of(route: str, status: str) -> float:
        labels = (
            ("method", "GET"),
            ("route", route),
            ("service", "customer"),
            ("status", status),
        )
        return samples.get(("http_requests_total", labels), 0)

    assert requests_of("api/health/", "200") >= 1
    assert requests_of("api/customers/<uuid:customer_id>/", "401") >= 1
    assert requests_of("unmatched", "404") >= 1
    assert not any(str(customer) in str(key) for key in samples)
    # This service relays from an outbox under event_sourcing: its backlog.
    backlog = ("outbox_unpublished_events", (("service", "customer"),))
    assert samples[backlog] == 2


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN, ARCHITECTURE_APPROACH="db_per_service")
def test_a_service_without_an_outbox_reports_no_backlog(client):
    append_customer_events(1)  # a row no relay of this approach would read

    answer = client.get("/metrics", headers=bearer(TOKEN))

    names = {name for name, _ in scraped(answer.content.decode())}
    assert "http_requests_total" in names
    assert "outbox_unpublished_events" not in names


@override_settings(METRICS_TOKEN="")
def test_without_a_token_configured_web_metrics_answer_nobody(client):
    assert client.get("/metrics", headers=bearer("")).status_code == 401
    assert client.get("/metrics", headers=bearer("anything")).status_code == 401


def test_a_bearer_token_is_compared_whole():
    assert bearer_token_matches(f"Bearer {TOKEN}", TOKEN)
    assert bearer_token_matches(f"bearer {TOKEN}", TOKEN)
    assert not bearer_token_matches(f"Bearer {TOKEN}x", TOKEN)
    assert not bearer_token_matches(f"Token {TOKEN}", TOKEN)
    assert not bearer_token_matches("Bearer ", "")


# --- a worker's own server -----------------------------------------------------------


def test_a_worker_serves_its_metrics_with_the_token_only(aws):
    sqs = aws_client("sqs", aws)
    url = sqs.create_queue(QueueName="metrics-worker-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="a letter")
    metrics.event_handled(consumer="metrics-worker-inbox", outcome="applied")
    port = free_port()
    server = start_metrics_server(
        port=port,
        bind="127.0.0.1",
        token=TOKEN,
        collectors=[metrics.DeadLetterQueueCollector(sqs=sqs, queue_urls=[url])],
    )
    base = f"http://127.0.0.1:{port}"
    try:
        refused = requests.get(f"{base}/metrics", timeout=5)
        elsewhere = requests.get(f"{base}/other", headers=bearer(TOKEN), timeout=5)
        answer = requests.get(f"{base}/metrics", headers=bearer(TOKEN), timeout=5)
    finally:
        server.shutdown()
        server.server_close()

    assert refused.status_code == 401
    assert elsewhere.status_code == 404
    assert answer.status_code == 200
    samples = scraped(answer.text)
    applied = (("consumer", "metrics-worker-inbox"), ("outcome", "applied"))
    assert samples[("consumer_events_total", applied)] >= 1
    depth = ("dead_letter_queue_messages", (("queue", "metrics-worker-dlq"),))
    assert samples[depth] == 1


# --- gunicorn's workers: one scrape adds them up -------------------------------------

COUNT_IN_A_PROCESS = textwrap.dedent(
    """
    from shared_events.telemetry import metrics
    metrics.event_handled(consumer="multiprocess-inbox", outcome="applied")
    metrics.event_handled(consumer="multiprocess-inbox", outcome="applied")
    """
)
SCRAPE = textwrap.dedent(
    """
    from prometheus_client import generate_latest
    from shared_events.telemetry.exposition import scrape_registry
    print(generate_latest(scrape_registry()).decode())
    """
)


def test_under_prometheus_multiproc_dir_a_scrape_adds_every_process_up(tmp_path):
    """Two processes count (as two gunicorn workers would); a third answers
    the scrape with the sum of both."""
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def python(code: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout

    python(COUNT_IN_A_PROCESS)
    python(COUNT_IN_A_PROCESS)
    samples = scraped(python(SCRAPE))

    applied = (("consumer", "multiprocess-inbox"), ("outcome", "applied"))
    assert samples[("consumer_events_total", applied)] == 4

"""The platform's /metrics, scraped from its real processes after a small load.

One platform under event_sourcing: both web servers (gunicorn, two workers
each), a consumer and a Celery relay per service, each worker with its own
metrics port (``PlatformRun.metrics_ports``). A few customers are registered
through the customer service's API while its relay is paused; then the
relay resumes. Every number checked is read from a scrape, as Prometheus
would read it, and must be exactly what the load made: the backlog rises to
N while nothing relays and drains to 0 after, the relay counts N published,
the order service's consumer N applied, and the web process N requests on
the register route, summed over its gunicorn workers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from shared_events.transport import AwsSettings, client, platform_topology
from stack.platform_run import PlatformRun, running_platform

pytestmark = pytest.mark.slow

CUSTOMERS = 5
WAIT_SECONDS = 30


@pytest.fixture(scope="module")
def platform(server_url, database_prefix):
    with running_platform(
        approach="event_sourcing", server_url=server_url, prefix=database_prefix
    ) as run:
        yield run


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def web_metrics(run: PlatformRun, service: str) -> str:
    return f"{run.url(service)}/metrics"


def worker_metrics(run: PlatformRun, key: str) -> str:
    return f"http://127.0.0.1:{run.metrics_ports[key]}/metrics"


def scrape(run: PlatformRun, url: str) -> Samples:
    answer = requests.get(
        url, headers={"Authorization": f"Bearer {run.env['METRICS_TOKEN']}"}, timeout=10
    )
    answer.raise_for_status()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def eventually(read: Callable[[], float], expected: float) -> float:
    """``read()`` once it gives ``expected``, or its last answer after the wait."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        got = read()
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def register_customers(run: PlatformRun, count: int) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {run.token}"
    for number in range(count):
        response = session.post(
            f"{run.url('customer')}/api/customers/register/",
            json={
                "name": f"Metered {number}",
                "email": f"metered-{number}-{uuid.uuid4().hex[:6]}@example.com",
                "address": f"{number} Scrape Street",
            },
            timeout=10,
        )
        assert response.status_code == 201, response.text


def test_metrics_answer_the_bearer_token_only(platform):
    token = platform.env["METRICS_TOKEN"]
    for url in (
        web_metrics(platform, "customer"),
        worker_metrics(platform, "order-consumer"),
        worker_metrics(platform, "customer-relay"),
    ):
        assert requests.get(url, timeout=10).status_code == 401, url
        wrong = {"Authorization": f"Bearer {token}-not"}
        assert requests.get(url, headers=wrong, timeout=10).status_code == 401, url
        right = {"Authorization": f"Bearer {token}"}
        assert requests.get(url, headers=right, timeout=10).status_code == 200, url
    # Health stays open.
    health = requests.get(f"{platform.url('customer')}/api/health/", timeout=10)
    assert health.status_code == 200


def test_a_small_load_counts_exactly_what_it_did(platform):
    customer_web = web_metrics(platform, "customer")
    platform.pause_workers(["customer-relay"])

    register_customers(platform, CUSTOMERS)

    while_paused = scrape(platform, customer_web)
    customer = {"service": "customer"}
    assert value(while_paused, "outbox_unpublished_events", **customer) == CUSTOMERS
    oldest = ("outbox_oldest_unpublished_age_seconds", (("service", "customer"),))
    assert oldest in while_paused
    registered = value(
        while_paused,
        "http_requests_total",
        service="customer",
        route="api/customers/register/",
        method="POST",
        status="201",
    )
    assert registered == CUSTOMERS  # both gunicorn workers' counts, added up

    platform.resume_workers(["customer-relay"])

    def backlog_now() -> float:
        return value(
            scrape(platform, customer_web), "outbox_unpublished_events", **customer
        )

    assert eventually(backlog_now, 0) == 0
    # The relay restarted when resumed: its counter starts again from 0.
    relay = scrape(platform, worker_metrics(platform, "customer-relay"))
    labels = {"service": "customer", "destination": "sns"}
    assert value(relay, "relay_published_events_total", **labels) == CUSTOMERS
    assert value(relay, "relay_failed_events_total", **labels) == 0

    consumer = worker_metrics(platform, "order-consumer")

    def applied() -> float:
        samples = scrape(platform, consumer)
        return value(
            samples, "consumer_events_total", consumer="order-inbox", outcome="applied"
        )

    assert eventually(applied, CUSTOMERS) == CUSTOMERS
    samples = scrape(platform, consumer)
    lag = "consumer_commit_to_apply_seconds"
    assert value(samples, f"{lag}_count", consumer="order-inbox") == CUSTOMERS
    assert value(samples, f"{lag}_sum", consumer="order-inbox") > 0

    # The order service's replica knows how old its newest customer event is.
    order_web = scrape(platform, web_metrics(platform, "order"))
    staleness = ("read_model_staleness_seconds", (("consumer", "order-inbox"),))
    assert staleness in order_web


def test_a_consumer_reports_its_dead_letter_queue_depth(platform):
    prefix = platform.env["EVENT_TOPOLOGY_PREFIX"]
    name = platform_topology(prefix=prefix).dead_letter_queue_name("order")
    sqs = client("sqs", AwsSettings(endpoint_url=platform.moto.endpoint_url))
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    consumer = worker_metrics(platform, "order-consumer")

    def depth() -> float:
        return value(
            scrape(platform, consumer), "dead_letter_queue_messages", queue=name
        )

    assert depth() == 0
    sqs.send_message(QueueUrl=url, MessageBody="an event no consumer could apply")
    try:
        assert eventually(depth, 1) == 1
    finally:
        platform.reset_data()  # empties the dead-letter queues

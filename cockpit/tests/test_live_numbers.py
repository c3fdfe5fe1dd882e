"""Live numbers from a real running platform, and n/a where a source is silent.

The package's platform under event_sourcing (both web servers, a consumer
and a Celery relay per service, its own moto server: ``conftest.platform``).
A customer registered through the API shows as a request on customer-web;
with the order service's consumer paused, its event waits in the order inbox
and the inbox's depth says so (checked against the message itself, received
from moto); a stopped process's box reads None. Sources that do not answer
(a port nobody serves, a server that never replies, a database that does not
exist) give None within the timeout, never an error.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable

import pytest
import requests

from cockpit import LiveSources, architecture, read_numbers
from shared_events.transport.topology import platform_topology
from stack.local_aws import local_client
from stack.loopback import free_port
from stack.platform_run import PlatformRun

pytestmark = pytest.mark.slow

WAIT_SECONDS = 30


def numbers_of(run: PlatformRun) -> dict:
    return read_numbers(LiveSources.of_run(run))


def eventually(read: Callable[[], object], *, what: str) -> object:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        got = read()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {WAIT_SECONDS}s")
        time.sleep(0.3)


def register_customer(run: PlatformRun) -> str:
    response = requests.post(
        f"{run.url('customer')}/api/customers/register/",
        headers={"Authorization": f"Token {run.token}"},
        json={
            "name": "Watched Customer",
            "email": f"watched-{uuid.uuid4().hex[:8]}@example.com",
            "address": "1 Cockpit Lane",
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_every_slot_of_the_running_platform_is_read(platform):
    before = numbers_of(platform)
    slots = {
        box.id: set(box.metrics)
        for box in architecture("event_sourcing").boxes
        if box.metrics
    }
    assert {box: set(values) for box, values in before.items()} == slots
    # Every source of this platform answers: queues, outboxes, web servers.
    for box in ("order-inbox", "order-inbox-dlq", "customer-inbox-dlq"):
        metric = "queue_depth" if box == "order-inbox" else "dlq_depth"
        assert before[box][metric] == 0, before
    assert before["customer-outbox"]["outbox_backlog"] == 0
    assert before["order-consumer"]["parked_events"] == 0
    requests_before = before["customer-web"]["requests"]
    assert isinstance(requests_before, int)

    register_customer(platform)

    after = numbers_of(platform)
    assert after["customer-web"]["requests"] == requests_before + 1
    # The order consumer applies the event; its lag is then measured.
    lag = eventually(
        lambda: numbers_of(platform)["order-consumer"]["consumer_lag"],
        what="the order consumer's lag measured",
    )
    assert 0 < lag < WAIT_SECONDS * 1000


def test_a_paused_consumer_leaves_its_inbox_deep_and_its_box_empty(platform):
    platform.pause_workers(["order-consumer"])
    try:
        customer_id = register_customer(platform)
        depth = eventually(
            lambda: numbers_of(platform)["order-inbox"]["queue_depth"],
            what="the event waiting in the order inbox",
        )
        assert depth == 1
        numbers = numbers_of(platform)
        assert numbers["order-consumer"] == {
            "consumer_lag": None,
            "parked_events": None,
        }
        # moto says one message: it is there, and it is this customer's event.
        sqs = local_client("sqs", platform.moto.endpoint_url)
        topology = platform_topology(prefix=platform.env["EVENT_TOPOLOGY_PREFIX"])
        url = sqs.get_queue_url(QueueName=topology.queue_name("order"))["QueueUrl"]
        received = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0
        )["Messages"]
        assert [json.loads(m["Body"])["aggregate_id"] for m in received] == [
            customer_id
        ]
    finally:
        platform.resume_workers(["order-consumer"])
    eventually(
        lambda: numbers_of(platform)["order-inbox"]["queue_depth"] == 0,
        what="the resumed consumer draining the inbox",
    )
    assert numbers_of(platform)["order-consumer"]["consumer_lag"] is not None


def test_silent_sources_give_none_within_the_timeout(platform, server_url):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections, never answers
    silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    sources = LiveSources.of_run(platform)
    broken = LiveSources(
        approach="event_sourcing",
        metrics_token=sources.metrics_token,
        web_urls={
            "customer-web": f"http://127.0.0.1:{free_port()}",  # nobody serves
            "order-web": silent_url,
        },
        running={"customer-web": True, "order-web": True, "order-consumer": True},
        database_urls={
            "customer": f"{server_url.rstrip('/')}/ck_no_such_database",
            "order": sources.database_urls["order"],
        },
        aws_endpoint=silent_url,
        topology_prefix=sources.topology_prefix,
    )
    try:
        started = time.monotonic()
        numbers = read_numbers(broken, timeout=1.0)
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert elapsed < 3.0
    assert numbers["customer-web"]["requests"] is None
    assert numbers["order-web"]["requests"] is None
    assert numbers["customer-outbox"]["outbox_backlog"] is None
    assert numbers["order-inbox"]["queue_depth"] is None
    # The one source that answers still does.
    assert numbers["order-outbox"]["outbox_backlog"] == 0
    assert numbers["order-consumer"]["consumer_lag"] is not None


def test_a_stopped_web_server_reads_none(platform):
    platform.stop_service("customer")
    try:
        numbers = numbers_of(platform)
    finally:
        # The package's other tests go on with the platform whole.
        platform.restart_web("customer")
    assert numbers["customer-web"] == {"requests": None}
    assert isinstance(numbers["order-web"]["requests"], int)

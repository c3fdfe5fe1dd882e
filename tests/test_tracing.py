"""One command, one trace: a customer deletion followed through every process.

The platform runs under ``cqrs_es`` with tracing on: every process exports
its spans to the run's span receiver, the gateway sends it its access log.
A deletion sent through the gateway must come back as one trace, its root
the gateway's span (named by its request id), with spans from the customer
service's web process, the relay and its call to SNS, the order service's
consumer and both projectors, every span's parent in the trace and no
child starting before its parent; and the OrderCancelled the deletion
caused carries the deletion's trace and correlation id.
"""

from __future__ import annotations

import json
import os
import time
import uuid

import psycopg2
import pytest
import requests

from lab.scenarios.traced_deletion import place_order
from observe.stream_backlog import checkpoint_file
from observe.traces import orphans, render_trace, trace_id_of_request, wait_for_trace
from shared_events.configuration import all_database_names
from stack import postgres
from stack.connections import fetch_value
from stack.platform_run import running_platform
from stack.span_receiver import TELEMETRY_DATABASE, telemetry_database_url
from stack.span_store import Span
from tests.test_gateway import mint

pytestmark = pytest.mark.slow

# The gateway's times are whole milliseconds: a child may seem to start up to
# one before it.
GATEWAY_ROUNDING_NS = 1_000_000


@pytest.fixture(scope="module")
def platform(traced_cqrs_platform):
    return traced_cqrs_platform


@pytest.fixture(scope="module")
def spans_url(platform) -> str:
    return telemetry_database_url(
        server_url=platform.env["DATABASE_SERVER_URL"],
        prefix=platform.env["DATABASE_NAME_PREFIX"],
    )


@pytest.fixture(scope="module")
def client(platform) -> requests.Session:
    demo = fetch_value(
        platform.database_url("customer"),
        "SELECT id FROM auth_user WHERE username = %s",
        ["demo"],
    )
    # A JWT of the demo user, as the customer service issues them.
    token = mint(platform, user_id=str(demo))
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def spans_of(spans: list[Span], service: str, name_start: str = "") -> list[Span]:
    return [s for s in spans if s.service == service and s.name.startswith(name_start)]


def complete(spans: list[Span]) -> bool:
    """Every hop of the deletion and of the cancellation it caused is in."""
    return all(
        spans_of(spans, service, name)
        for service, name in [
            ("gateway", "gateway"),
            ("customer-web", ""),
            ("customer-relay", "publish"),
            ("order-consumer", "process CustomerDeleted"),
            ("customer-projector", "process CustomerDeleted"),
            ("order-relay", "publish"),
            ("order-projector", "process OrderCancelled"),
        ]
    ) and not orphans(spans)


def test_a_customer_deletion_is_one_trace_through_every_process(
    platform, client, spans_url
):
    gateway = platform.gateway.base_url
    registered = client.post(
        f"{gateway}/customers/register/",
        json={
            "name": "Traced Customer",
            "email": f"traced-{uuid.uuid4().hex[:8]}@example.com",
            "address": "1 Span Street",
        },
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    customer_id = registered.json()["id"]
    # The order service accepts it once the customer reached its replica.
    order_id = place_order(client, gateway, customer_id)
    assert order_id is not None
    # The credit saga's answer first: its events leave the customer's outbox
    # apart from the deletion's, whose publish span then holds its own call.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        order = client.get(f"{gateway}/orders/{order_id}/", timeout=10).json()
        if order["status"] != "pending":
            break
        time.sleep(0.2)
    assert order["status"] == "approved", order

    deleted = client.post(
        f"{gateway}/customers/{customer_id}/delete/",
        json={"open_orders": "cancel"},
        timeout=10,
    )
    assert deleted.status_code in (200, 204), deleted.text

    request_id = deleted.headers["X-Request-ID"]
    trace_id = deleted.headers["X-Trace-ID"]
    spans = wait_for_trace(spans_url, trace_id, until=complete, timeout=30)
    drawn = render_trace(spans)
    assert complete(spans), drawn
    assert trace_id_of_request(spans_url, request_id) == trace_id

    # One root, the gateway's span, named by the request id.
    roots = [s for s in spans if s.parent_span_id is None]
    assert [r.service for r in roots] == ["gateway"], drawn
    assert roots[0].attributes["request_id"] == request_id
    # Parent-child linked, in time order.
    by_id = {s.span_id: s for s in spans}
    for span in spans:
        if span.parent_span_id is not None:
            parent = by_id[span.parent_span_id]
            assert span.start_ns >= parent.start_ns - GATEWAY_ROUNDING_NS, drawn

    def ancestors(span: Span) -> list[Span]:
        chain = []
        while span.parent_span_id is not None:
            span = by_id[span.parent_span_id]
            chain.append(span)
        return chain

    web = spans_of(spans, "customer-web")
    assert any(s.kind == "server" for s in web), drawn
    # The relay's publish span holds the broker call (botocore's SNS span).
    publish = spans_of(spans, "customer-relay", "publish")[0]
    broker_calls = [
        s
        for s in spans
        if s.parent_span_id == publish.span_id and s.attributes.get("rpc.service")
    ]
    assert [c.attributes["rpc.service"] for c in broker_calls] == ["SNS"], drawn
    # The consumer and the projector each process the deletion, below the
    # web request that recorded it.
    for service in ("order-consumer", "customer-projector"):
        process = spans_of(spans, service, "process CustomerDeleted")[0]
        assert "customer-web" in {a.service for a in ancestors(process)}, drawn
    # The cancellation the deletion caused: recorded inside the consumer's
    # processing, published by the order relay, projected by its projector.
    projected = spans_of(spans, "order-projector", "process OrderCancelled")[0]
    chain = [a.service for a in ancestors(projected)]
    assert chain[:2] == ["order-consumer"] * 2, drawn  # create, process
    assert "customer-web" in chain and chain[-1] == "gateway", drawn

    # The event itself says so: same trace, same correlation, caused by.
    cancelled = json.loads(
        fetch_value(
            platform.database_url("order"),
            "SELECT metadata::text FROM event_store WHERE event_type = %s "
            "ORDER BY id DESC LIMIT 1",
            ["OrderCancelled"],
        )
    )
    deletion = json.loads(
        fetch_value(
            platform.database_url("customer"),
            "SELECT metadata::text FROM event_store WHERE event_type = %s "
            "AND aggregate_id = %s",
            ["CustomerDeleted", customer_id],
        )
    )
    assert cancelled["trace_context"]["traceparent"].split("-")[1] == trace_id
    assert deletion["trace_context"]["traceparent"].split("-")[1] == trace_id
    assert cancelled["correlation_id"] == deletion["correlation_id"]


def test_only_requests_and_recorded_events_start_a_trace(platform, spans_url):
    """The consumers' polls, the relay's timer and their statements start no
    trace of their own: after the platform ran for a while every stored
    trace begins at a request or at a recorded event."""
    with (
        psycopg2.connect(spans_url) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT service, name, kind FROM spans WHERE parent_span_id IS NULL"
        )
        roots = cursor.fetchall()
    connection.close()
    assert roots
    for service, name, kind in roots:
        assert kind == "server" or name.startswith("create "), (service, name)


def test_the_context_rides_through_dynamodb_streams_and_kinesis_too(
    server_url, database_prefix
):
    """On the paper's AWS backends (the event table's stream is the outbox,
    Kinesis the broker, Lambda handlers the consumers) a registration is
    still one trace: the web request, the stream relay's publish to Kinesis,
    the order service's handler and the customer service's projector."""
    prefix = f"{database_prefix}aws_"
    try:
        spans = _register_on_the_aws_backends(server_url, prefix)
    finally:
        postgres.drop_databases(
            server_url=server_url,
            names=[*all_database_names(prefix), prefix + TELEMETRY_DATABASE],
        )
        for service in ("customer", "order"):
            checkpoint_file(
                os.environ, service=service, prefix=prefix.replace("_", "-")
            ).unlink(missing_ok=True)
    assert whole(spans), render_trace(spans)
    publish = spans_of(spans, "customer-functions", "publish")[0]
    assert publish.attributes["messaging.system"] == "aws_kinesis"
    roots = [s for s in spans if s.parent_span_id is None]
    assert [(r.service, r.kind) for r in roots] == [("customer-web", "server")]


def whole(spans: list[Span]) -> bool:
    """A registration's hops on the AWS backends are all in."""
    return all(
        spans_of(spans, service, name)
        for service, name in [
            ("customer-web", "create CustomerRegistered"),
            ("customer-functions", "publish"),
            ("order-functions", "process CustomerRegistered"),
            ("customer-functions", "process CustomerRegistered"),
        ]
    ) and not orphans(spans)


def _register_on_the_aws_backends(server_url: str, prefix: str) -> list[Span]:
    with running_platform(
        approach="cqrs_es",
        server_url=server_url,
        prefix=prefix,
        tracing=True,
        extra_env={"EVENT_DELIVERY": "kinesis", "EVENT_STORE": "dynamodb"},
    ) as run:
        registered = requests.post(
            f"{run.url('customer')}/api/customers/register/",
            headers={"Authorization": f"Token {run.token}"},
            json={
                "name": "Streamed Customer",
                "email": f"streamed-{uuid.uuid4().hex[:8]}@example.com",
                "address": "1 Shard Lane",
            },
            timeout=10,
        )
        assert registered.status_code == 201, registered.text
        trace_id = registered.headers["X-Trace-ID"]
        url = telemetry_database_url(server_url=server_url, prefix=prefix)
        return wait_for_trace(url, trace_id, until=whole, timeout=60)

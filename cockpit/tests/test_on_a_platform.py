"""The waterfall and the event browser on a real platform's own data.

The package's ``event_sourcing`` platform runs with tracing on and its
gateway in front (``conftest.platform``). A customer is registered, an order
placed for it, and the customer deleted, all through the gateway: the
deletion's trace is read back from the span store and drawn by
``render_waterfall``; the deleted customer's history and its order's history
are read over HTTP by ``aggregate_history`` and drawn by ``render_history``.
Nothing is faked: every span, event and id checked here came from the
running processes.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest
import requests

from cockpit.history import (
    HistoryUnavailable,
    aggregate_history,
    render_history,
    run_history,
)
from cockpit.waterfall import render_waterfall, span_rows
from lab.scenarios.traced_deletion import place_order
from observe.traces import orphans, wait_for_trace
from stack.connections import fetch_value
from stack.span_receiver import telemetry_database_url

pytestmark = pytest.mark.slow

# The processes a deletion's trace passes under event sourcing: the gateway,
# the customer service and its relay, the order service's consumer (which
# cancels the order) and its relay.
EXPECTED_PROCESSES = {
    "gateway",
    "customer-web",
    "customer-relay",
    "order-consumer",
    "order-relay",
}


@pytest.fixture(scope="module")
def jwt(platform) -> str:
    """A JWT of the demo user, as the customer service issues them."""
    demo = fetch_value(
        platform.database_url("customer"),
        "SELECT id FROM auth_user WHERE username = %s",
        ["demo"],
    )
    now = datetime.now(UTC)
    return pyjwt.encode(
        {
            "token_type": "access",
            "exp": now + timedelta(minutes=10),
            "iat": now,
            "jti": uuid.uuid4().hex,
            "user_id": str(demo),
            "iss": "customer",
            "is_staff": True,
        },
        platform.env["JWT_SIGNING_KEY"],
        algorithm="HS256",
    )


@pytest.fixture(scope="module")
def deletion(platform, jwt) -> dict:
    """A customer with an order, deleted through the gateway: the ids, and
    the trace id the gateway's answer named."""
    gateway = platform.gateway.base_url
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {jwt}"
    registered = session.post(
        f"{gateway}/customers/register/",
        json={
            "name": "Browsed Customer",
            "email": f"browsed-{uuid.uuid4().hex[:8]}@example.com",
            "address": "1 History Lane",
        },
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    customer_id = registered.json()["id"]
    order_id = place_order(session, gateway, customer_id)
    assert order_id is not None
    # Let the credit check settle, so the deletion cancels an open order.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = session.get(f"{gateway}/orders/{order_id}/", timeout=10).json()
        if status["status"] != "pending":
            break
        time.sleep(0.2)
    deleted = session.post(
        f"{gateway}/customers/{customer_id}/delete/",
        json={"open_orders": "cancel"},
        timeout=10,
    )
    assert deleted.status_code in (200, 204), deleted.text
    return {
        "customer": customer_id,
        "order": order_id,
        "trace": deleted.headers["X-Trace-ID"],
    }


def reached_every_process(spans) -> bool:
    return {s.service for s in spans} >= EXPECTED_PROCESSES and any(
        s.name == "create OrderCancelled" for s in spans
    )


def test_the_deletions_trace_is_drawn_a_row_per_span(platform, deletion):
    spans_url = telemetry_database_url(
        server_url=platform.env["DATABASE_SERVER_URL"],
        prefix=platform.env["DATABASE_NAME_PREFIX"],
    )
    spans = wait_for_trace(
        spans_url, deletion["trace"], until=reached_every_process, timeout=40
    )
    assert reached_every_process(spans), sorted({s.service for s in spans})

    svg = render_waterfall(spans)

    assert svg.startswith("<svg") and 'role="img"' in svg
    assert f'data-trace="{deletion["trace"]}"' in svg
    drawn = re.findall(r'data-span="([0-9a-f]+)"', svg)
    assert sorted(drawn) == sorted(s.span_id for s in spans)
    # The gateway's span is the root: the first row, at depth 0.
    rows = span_rows(spans)
    assert rows[0][0].service == "gateway" and rows[0][1] == 0
    assert max(depth for _, depth in rows) >= 3
    for process in EXPECTED_PROCESSES:
        assert f'data-service="{process}"' in svg
    # "parent missing" appears exactly where the span store says so.
    assert svg.count('class="parent-missing"') == len(orphans(spans))


def test_a_deleted_customers_history_is_kept_and_links_its_trace(
    platform, jwt, deletion
):
    events = aggregate_history(
        base_url=platform.gateway.base_url,
        api_prefix="",
        aggregate="customers",
        aggregate_id=deletion["customer"],
        token=jwt,
    )

    assert events[0].event_type == "CustomerRegistered"
    assert events[-1].event_type == "CustomerDeleted"
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    assert events[-1].trace_id == deletion["trace"]
    assert all(e.correlation_id for e in events)
    # The service itself answers the same, to its own token.
    same = run_history(
        platform, aggregate="customers", aggregate_id=deletion["customer"]
    )
    assert same == events

    table = render_history(events)
    assert f'href="/traces/{deletion["trace"]}/"' in table
    assert table.count("<tr id=") == len(events)


def test_the_cancellation_names_the_deletion_as_its_cause(platform, jwt, deletion):
    deleted = aggregate_history(
        base_url=platform.gateway.base_url,
        api_prefix="",
        aggregate="customers",
        aggregate_id=deletion["customer"],
        token=jwt,
    )[-1]
    deadline = time.monotonic() + 30
    while True:
        order = run_history(
            platform, aggregate="orders", aggregate_id=deletion["order"]
        )
        if order[-1].event_type == "OrderCancelled" or time.monotonic() > deadline:
            break
        time.sleep(0.3)

    cancelled = order[-1]
    assert cancelled.event_type == "OrderCancelled"
    assert cancelled.causation_id == deleted.event_id
    assert cancelled.correlation_id == deleted.correlation_id
    assert cancelled.trace_id == deletion["trace"]


def test_an_unknown_aggregate_is_a_404_with_its_reason(platform):
    with pytest.raises(HistoryUnavailable) as raised:
        run_history(platform, aggregate="customers", aggregate_id=str(uuid.uuid4()))
    assert raised.value.status == 404
    assert raised.value.reason

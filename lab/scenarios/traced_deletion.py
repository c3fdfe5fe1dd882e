"""One customer deletion followed as a single trace through every process.

Paper, best practice VIII: trace requests across services. The platform
runs with tracing on (``Scenario.traced``: every process exports its spans
to the run's span receiver, the gateway its access log). A signed-in client
registers a customer, places an order, then deletes the customer, all
through the gateway; the scenario reads the deletion's trace back
(``observe.traces``) by the ``X-Trace-ID`` the gateway's answer carried.

Measured: the trace's spans, the processes they came from, the spans whose
parent is missing (none, if the context travelled every hop), whether the
OrderCancelled the deletion caused is in the same trace, and how long from
the gateway's first byte to the trace's last span.

What a learner should notice: under the event-driven approaches one trace
holds the gateway, the customer service's web process, its relay and the
call to the broker, the order service's consumer, the cancellation its
handler recorded, the order relay and the projectors: the trace context
rode in the envelope through the outbox and the broker, and a caused event
continues its cause's trace. Under the synchronous approaches the trace
ends in the customer service: nobody else hears of the deletion (the orphan
order ``delete-customer`` measures), and the trace shows it.
"""

from __future__ import annotations

import time

import requests

from lab.backends import Backend
from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario
from lab.scenarios.edge_throttle import no_gateway_reason, sign_in
from observe.traces import orphans, trace_spans
from stack.span_receiver import telemetry_database_url
from stack.span_store import Span

# The trace is read once no new span arrived for this long (each process
# exports in its own batches), or at the latest after the patience.
QUIET_SECONDS = 2.0
PATIENCE_SECONDS = 30.0
REPLICA_PATIENCE_SECONDS = 30.0

TRACE = "the deletion's trace"
SPANS = "spans"
PROCESSES = "processes"
ORPHANS = "spans without their parent"
CAUSED_IN_TRACE = "OrderCancelled in the trace"
DURATION_MS = "first to last span ms"


class TracedDeletion(Scenario):
    name = "traced-deletion"
    title = (
        "a customer with an order is deleted through the gateway; the deletion's "
        "trace is read back from the spans every process exported"
    )
    traced = True

    def skip_reason(self, backend: Backend) -> str | None:
        return no_gateway_reason()

    def run(self, ctx: ScenarioContext) -> None:
        gateway = ctx.run.start_gateway()
        try:
            trace_id = self._delete_through(ctx, gateway.base_url)
            ctx.finished = time.monotonic()
            # Read before the gateway stops: it logs a request (its span) once
            # the answer is sent, and a stop may come first.
            spans = read_when_quiet(ctx, trace_id)
        finally:
            gateway.stop()
        processes = processes_in_order(spans)
        ctx.figures[TRACE] = {
            SPANS: len(spans),
            PROCESSES: len(processes),
            ORPHANS: len(orphans(spans)),
            CAUSED_IN_TRACE: sum(1 for s in spans if s.name == "create OrderCancelled"),
            DURATION_MS: round(
                (max(s.end_ns for s in spans) - min(s.start_ns for s in spans)) / 1e6,
                1,
            )
            if spans
            else None,
        }
        ctx.notes.append(f"trace {trace_id}: " + " -> ".join(processes))
        ctx.notes.append(f"'manage.py trace {trace_id}' draws it while the run lasts")

    def _delete_through(self, ctx: ScenarioContext, gateway_url: str) -> str:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {sign_in(ctx, gateway_url)}"
        registered = session.post(
            f"{gateway_url}/customers/register/",
            json={
                "name": "Traced Customer",
                "email": f"traced-{time.monotonic_ns()}@example.com",
                "address": "1 Span Street",
            },
            timeout=10,
        )
        registered.raise_for_status()
        customer_id = registered.json()["id"]
        ctx.customers.append(customer_id)
        ctx.commands_ok += 1
        order = place_order(session, gateway_url, customer_id)
        if order is not None:
            ctx.orders.append(order)
            ctx.commands_ok += 1
        deleted = session.post(
            f"{gateway_url}/customers/{customer_id}/delete/",
            json={"open_orders": "cancel"},
            timeout=10,
        )
        if deleted.status_code < 300:
            ctx.deleted_customers.append(customer_id)
            ctx.commands_ok += 1
        else:
            ctx.client.failures[str(deleted.status_code)] += 1
        return deleted.headers["X-Trace-ID"]

    def lesson(self, approach: str, measured: Measurements) -> str:
        trace = measured.figures.get(TRACE)
        if not trace or not trace[SPANS]:
            return "no span of the deletion reached the span store"
        spans, processes = trace[SPANS], trace[PROCESSES]
        linked = (
            "every span's parent is in it"
            if not trace[ORPHANS]
            else f"{trace[ORPHANS]} spans lost their parent: the context broke"
        )
        if trace[CAUSED_IN_TRACE]:
            return (
                f"one trace of {spans} spans from {processes} processes, "
                f"{trace[DURATION_MS]} ms from the gateway to the last projection; "
                f"{linked}. The context rode in the envelope through the outbox "
                "and the broker, and the OrderCancelled the order service's consumer "
                "recorded continues the deletion's trace (same trace and correlation "
                "id, the deletion as its cause): one command, one story"
            )
        return (
            f"the trace ends where the request did: {spans} spans from {processes} "
            f"processes ({linked}). No event carried the deletion on, so no other "
            "process appears in it: the order service never heard of the deletion"
        )


def place_order(
    session: requests.Session, gateway_url: str, customer_id: str
) -> str | None:
    """An order for the customer, once its service accepts it (under the
    approaches with a replica, once the customer reached it); None if never."""
    deadline = time.monotonic() + REPLICA_PATIENCE_SECONDS
    while True:
        response = session.post(
            f"{gateway_url}/orders/place/",
            json={
                "customer_id": customer_id,
                "lines": [{"sku": "TRACE-1", "quantity": 1, "unit_price": "9.50"}],
            },
            timeout=10,
        )
        if response.status_code == 201:
            return response.json()["id"]
        if time.monotonic() > deadline:
            return None
        time.sleep(0.2)


def read_when_quiet(ctx: ScenarioContext, trace_id: str) -> list[Span]:
    """The trace once no new span arrived for ``QUIET_SECONDS``."""
    env = ctx.run.env
    url = telemetry_database_url(
        server_url=env["DATABASE_SERVER_URL"], prefix=env["DATABASE_NAME_PREFIX"]
    )
    deadline = time.monotonic() + PATIENCE_SECONDS
    seen, quiet_since = -1, time.monotonic()
    while True:
        spans = trace_spans(url, trace_id)
        if len(spans) != seen:
            seen, quiet_since = len(spans), time.monotonic()
        now = time.monotonic()
        if (spans and now - quiet_since >= QUIET_SECONDS) or now > deadline:
            return spans
        time.sleep(0.2)


def processes_in_order(spans: list[Span]) -> list[str]:
    """Each process of the trace once, by when it first appears."""
    first: dict[str, int] = {}
    for span in spans:
        first[span.service] = min(first.get(span.service, span.start_ns), span.start_ns)
    return sorted(first, key=first.__getitem__)

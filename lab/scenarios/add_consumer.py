"""A new service joins the running platform while orders keep coming.

Paper: with events, a new consumer joins with no change to the producers. A
new team's analytics service (``analytics_service``: revenue per customer
per day, the paper's "audit records for analytics") is started while
shoppers keep placing orders (``lab.steady_load``):

1. its own database is created and migrated;
2. its consumer subscribes a new inbox to the order events topic that
   already exists, FIRST, then replays the order service's event store
   (read-only) from the beginning, then follows the inbox live;
3. its web server answers ``GET /api/analytics/revenue/``.

Once the traffic stops and the platform is quiet, the revenue it serves is
compared with the truth computed from the order service's own database
(the open orders, each on the UTC day of its ``OrderPlaced``).

Measured: the events the replay applied, the events applied live from the
inbox, the seconds from the join until the numbers matched, the rows that
differ, and what changed on the producers' side: processes restarted and
settings changed. What a learner should notice: the producers' numbers are
all 0; the order service never learns that it has a new consumer.

The inbox is retired again once the scenario is measured (its processes
stopped, its subscription and queues deleted), so the next scenario on the
platform runs as if the analytics service had never been there.
"""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal

import requests

from lab.backends import Backend
from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario
from lab.steady_load import LoadOutcome, place_steadily
from shared_events.transport import platform_topology
from stack import postgres
from stack.connections import fetch_rows, fetch_value
from stack.local_aws import local_client
from stack.process_table import joining_processes
from stack.processes import ServiceProcess, start_web, start_worker

SERVICE = "analytics"
CUSTOMERS = 3
ORDERS_BEFORE = 8
CANCELLED_BEFORE = 2
RATE_PER_SECOND = 3.0
TRAFFIC_SECONDS = 6.0
CONVERGE_TIMEOUT_SECONDS = 60.0
# The line the consumer prints its replay's figures on (``--json``).
SUMMARY_PREFIX = "replay summary: "

JOIN = "join"
TRAFFIC = "traffic"
# The figures, as the report names them.
REPLAYED = "events replayed"
LIVE = "events applied live"
CONVERGED = "join to converged s"
AFTER_TRAFFIC = "converged after traffic s"
MISMATCHED = "mismatched rows"
RESTARTED = "producer processes restarted"
SETTINGS_CHANGED = "producer settings changed"
BEFORE = "orders before the join"
DURING = "orders during the join"

TRUTH = """
SELECT o.customer_id::text, (e.occurred_at AT TIME ZONE 'UTC')::date::text,
       count(*), sum(o.total)
FROM orders_order o
JOIN event_store e ON e.aggregate_id = o.id AND e.event_type = 'OrderPlaced'
WHERE o.status NOT IN ('cancelled', 'rejected') AND o.customer_id::text = ANY(%s)
GROUP BY 1, 2
"""


class AddConsumer(Scenario):
    name = "add-consumer"
    title = (
        "a new analytics service joins the running platform while orders keep "
        "coming: it replays the order history, then follows live"
    )

    def skip_reason(self, backend: Backend) -> str | None:
        if joining_processes(
            backend.approach, delivery=backend.delivery, store=backend.store
        ):
            return None
        return (
            "the analytics service joins by replaying the order service's "
            "PostgreSQL event store and subscribing an inbox to its SNS topic: "
            "event_sourcing and cqrs_es on SNS and PostgreSQL only"
        )

    def run(self, ctx: ScenarioContext) -> None:
        customers = [
            ctx.register_known(f"Analytics Case {i}")["id"] for i in range(CUSTOMERS)
        ]
        for index in range(ORDERS_BEFORE):
            ctx.place_order(customers[index % CUSTOMERS], sku=f"AN-{index}")
        for order_id in ctx.orders[:CANCELLED_BEFORE]:
            self._cancel(ctx, order_id)
        producers = _producer_state(ctx)
        traffic: dict[str, LoadOutcome] = {}
        shoppers = threading.Thread(
            target=lambda: traffic.update(
                outcome=place_steadily(
                    order_url=ctx.run.url("order"),
                    token=ctx.run.token,
                    customer_ids=customers,
                    rate=RATE_PER_SECOND,
                    seconds=TRAFFIC_SECONDS,
                )
            )
        )
        shoppers.start()
        try:
            joined = time.monotonic()
            consumer, web = self._join(ctx)
            # One more cancellation while the analytics service follows live.
            if len(ctx.orders) > CANCELLED_BEFORE:
                self._cancel(ctx, ctx.orders[CANCELLED_BEFORE])
        finally:
            shoppers.join()
        traffic_ended = time.monotonic()
        outcome = traffic["outcome"]
        ctx.commands_ok += outcome.placed
        for status, count in outcome.failed.items():
            ctx.client.failures[status] += count
        mismatched = self._wait_converged(ctx, web, customers)
        converged = time.monotonic() if mismatched == 0 else None
        replay = _replay_summary(consumer)
        processed = fetch_value(
            ctx.run.database_url(SERVICE), "SELECT count(*) FROM event_processed"
        )
        after = _producer_state(ctx)
        ctx.figures[TRAFFIC] = {
            BEFORE: ORDERS_BEFORE,
            DURING: outcome.placed,
        }
        ctx.figures[JOIN] = {
            REPLAYED: replay.get("applied"),
            LIVE: processed - replay.get("applied", 0),
            CONVERGED: _seconds(converged, joined),
            AFTER_TRAFFIC: _seconds(converged, traffic_ended),
            MISMATCHED: mismatched,
            RESTARTED: sum(
                1
                for name, pid in producers["pids"].items()
                if after["pids"].get(name) != pid
            ),
            SETTINGS_CHANGED: sum(
                1
                for key in producers["env"].keys() | after["env"].keys()
                if producers["env"].get(key) != after["env"].get(key)
            ),
        }

    def _join(self, ctx: ScenarioContext) -> tuple[ServiceProcess, ServiceProcess]:
        """The new team's deployment: a fresh database, migrated; the consumer
        (subscribe, replay, follow); the web server."""
        run = ctx.run
        name = run.database_url(SERVICE).rsplit("/", 1)[1]
        server = run.env["DATABASE_SERVER_URL"]
        postgres.drop_databases(server_url=server, names=[name])
        postgres.create_databases(server_url=server, names=[name])
        run.manage(SERVICE, "migrate", "--no-input", "-v", "0")
        run.manage(
            SERVICE, "create_demo_user", "--username", "demo", "--token", run.token,
            "--quiet",
        )  # fmt: skip
        ctx.cleanups.append(lambda: _retire_inbox(ctx))
        consumer_spec, _ = joining_processes(
            run.approach,
            delivery=run.env.get("EVENT_DELIVERY", "sns"),
            store=run.env.get("EVENT_STORE", "postgres"),
        )
        consumer = start_worker(
            SERVICE,
            [*consumer_spec.command(), "--json"],
            env=run.env,
            name=consumer_spec.kind.value,
            ready_text=consumer_spec.ready_text or "",
        )
        ctx.cleanups.append(consumer.stop)
        web = start_web(SERVICE, env=run.env)
        ctx.cleanups.append(web.stop)
        ctx.notes.append(
            f"the analytics service joined: consumer log {consumer.log_path.name}, "
            f"web on port {web.port}"
        )
        return consumer, web

    @staticmethod
    def _cancel(ctx: ScenarioContext, order_id: str) -> None:
        response = ctx.client.session.post(
            f"{ctx.run.url('order')}/api/orders/{order_id}/cancel/", json={}, timeout=10
        )
        if response.status_code < 300:
            ctx.commands_ok += 1
        else:
            ctx.client.failures[str(response.status_code)] += 1

    @staticmethod
    def _wait_converged(
        ctx: ScenarioContext, web: ServiceProcess, customers: list[str]
    ) -> int:
        """Rows that differ between the analytics and the truth, once they
        match and stay matched for a moment (or at the deadline)."""
        deadline = time.monotonic() + CONVERGE_TIMEOUT_SECONDS
        matched_since = None
        while True:
            differing = len(
                _truth(ctx, customers).items() ^ _analytics(ctx, web, customers).items()
            )
            now = time.monotonic()
            if differing:
                matched_since = None
            elif matched_since is None:
                matched_since = now
            elif now - matched_since >= 1.0:
                return 0
            if now > deadline:
                return differing
            time.sleep(0.3)

    def lesson(self, approach: str, measured: Measurements) -> str:
        join = measured.figures.get(JOIN)
        if not join:
            return "the analytics service did not join"
        traffic = measured.figures.get(TRAFFIC, {})
        if join[MISMATCHED]:
            return (
                f"the analytics service did not converge: {join[MISMATCHED]} rows "
                "still differ from the order service's orders"
            )
        return (
            f"a new analytics service joined while {traffic.get(DURING)} orders "
            f"were placed: it replayed {join[REPLAYED]} past events from the order "
            f"service's event store, applied {join[LIVE]} live from its new inbox, "
            f"and matched the order service's revenue {join[CONVERGED]} s after it "
            f"joined (0 rows differ); on the producers' side "
            f"{join[RESTARTED]} processes restarted and {join[SETTINGS_CHANGED]} "
            "settings changed: they never learned they have a new consumer"
        )


def _producer_state(ctx: ScenarioContext) -> dict:
    """The producers' processes (by name, their pid) and their settings."""
    run = ctx.run
    processes = {f"{s}-web": p for s, p in run.services.items()} | dict(run.workers)
    return {
        "pids": {name: process.process.pid for name, process in processes.items()},
        "env": dict(run.env),
    }


def _truth(ctx: ScenarioContext, customers: list[str]) -> dict:
    """(customer, day) -> (open orders, their total), from the order service."""
    rows = fetch_rows(ctx.run.database_url("order"), TRUTH, [customers])
    return {(c, day): (count, Decimal(total)) for c, day, count, total in rows}


def _analytics(ctx: ScenarioContext, web: ServiceProcess, customers: list[str]):
    """The same, as the analytics service serves it (days it has with no open
    order left are left out, as the truth has no row for them)."""
    found: dict = {}
    url = f"{web.base_url}/api/analytics/revenue/?limit=100"
    headers = {"Authorization": f"Token {ctx.run.token}"}
    while url:
        response = requests.get(url, headers=headers, timeout=10)
        response.raise_for_status()
        page = response.json()
        for row in page["results"]:
            if row["customer_id"] in customers and row["order_count"]:
                key = (row["customer_id"], row["day"])
                found[key] = (row["order_count"], Decimal(row["revenue"]))
        url = page["next"]
    return found


def _replay_summary(consumer: ServiceProcess) -> dict:
    for line in consumer.log_path.read_text(errors="replace").splitlines():
        if line.startswith(SUMMARY_PREFIX):
            return json.loads(line.removeprefix(SUMMARY_PREFIX))
    return {}


def _seconds(end: float | None, start: float) -> float | None:
    return None if end is None else round(end - start, 1)


def _retire_inbox(ctx: ScenarioContext) -> None:
    """The analytics inbox unsubscribed and deleted, after its processes
    stopped: the platform's next scenarios run as before it joined."""
    run = ctx.run
    topology = platform_topology(
        prefix=run.env.get("EVENT_TOPOLOGY_PREFIX", ""), joining=(SERVICE,)
    )
    sqs = local_client("sqs", run.moto.endpoint_url)
    sns = local_client("sns", run.moto.endpoint_url)
    inbox = topology.queue_name(SERVICE)
    queues = []
    for name in (inbox, topology.dead_letter_queue_name(SERVICE)):
        try:
            queues.append(sqs.get_queue_url(QueueName=name)["QueueUrl"])
        except sqs.exceptions.QueueDoesNotExist:
            continue
    for page in sns.get_paginator("list_subscriptions").paginate():
        for subscription in page["Subscriptions"]:
            if subscription["Endpoint"].rsplit(":", 1)[-1] == inbox:
                sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    for url in queues:
        sqs.delete_queue(QueueUrl=url)

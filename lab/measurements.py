"""The same measurements for every scenario and approach, read from the data.

Every number here comes from the databases (both services' write and read
databases) or from what the HTTP client saw, never from what the code meant
to do. A number that does not apply to an approach (no events, no event
store) is None and shows as "n/a".

Lag is never counted as loss. The lab measures once the platform is quiet
(``observe.quiescence``): then a change committed upstream and absent
downstream is lost. If the platform is still busy at the deadline, a
difference on a path that still carries events (the customer outbox, the
order service's inbox) is "not yet applied"; a queue's messages cannot be
read without disturbing its consumer, so every difference behind a busy
inbox counts as not yet applied, and only a path gone quiet can show a loss.
The same holds for a stream (``EVENT_DELIVERY=kinesis``): a difference behind
a consumer's stream that still holds records is not yet applied.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field

from lab.context import ScenarioContext
from observe.event_tables import EventTables
from observe.tables import (
    CUSTOMER_TABLE,
    EVENT_STORE_TABLE,
    ORDER_TABLE,
    ORDER_VIEW_CUSTOMER_TABLE,
    ORDER_VIEW_TABLE,
    PROCESSED_EVENT_TABLE,
    REPLICA_TABLE,
    SUMMARY_ORDER_TABLE,
    SUMMARY_TABLE,
)


@dataclass
class Measurements:
    orphan_orders: int
    events_lost: int | None
    duplicate_effects: int | None
    failed_requests: dict[str, int]
    lag_p50_ms: float | None
    lag_p99_ms: float | None
    lag_samples_ms: list[float] = field(default_factory=list)
    commands_per_second: float = 0.0
    events_stored: int | None = None
    audit: str = "n/a"
    # Committed upstream, still on the way downstream when measured.
    not_yet_applied: int | None = None
    # Events waiting (outbox rows and inbox messages) when the commands
    # stopped, and the seconds until the platform went quiet (None: it did
    # not before the deadline).
    backlog_at_end: int | None = None
    drain_seconds: float | None = None
    # A scenario's own numbers, by group (``ScenarioContext.figures``).
    figures: dict[str, dict[str, float | int | None]] = field(default_factory=dict)
    # Each answer the client got: (seconds since the scenario started, status),
    # for the requests-over-time chart.
    answers: list[tuple[float, str]] = field(default_factory=list)

    @property
    def drain_rate(self) -> float | None:
        """Events drained per second after the commands stopped."""
        if not self.backlog_at_end or not self.drain_seconds:
            return None
        return self.backlog_at_end / self.drain_seconds

    @property
    def failed_request_count(self) -> int:
        return sum(self.failed_requests.values())

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("lag_samples_ms")
        data.pop("answers")
        data["drain_rate"] = self.drain_rate
        return data


def orphan_orders(ctx: ScenarioContext) -> int:
    """Open orders of this scenario's customers who no longer exist."""
    if not ctx.customers:
        return 0
    live = {
        row[0]
        for row in ctx.query(
            "customer",
            f"SELECT id::text FROM {CUSTOMER_TABLE} WHERE id::text = ANY(%s)",
            [ctx.customers],
        )
    }
    gone = [c for c in ctx.customers if c not in live]
    if not gone:
        return 0
    return ctx.query(
        "order",
        f"SELECT count(*) FROM {ORDER_TABLE} WHERE status IN ('pending', 'approved') "
        "AND customer_id::text = ANY(%s)",
        [gone],
    )[0][0]


# The consumer whose inbox (or stream, under EVENT_DELIVERY=kinesis) feeds each
# table the lab and the audit compare: the order service's replica is built
# from customer events in its inbox, each read model from its read-side inbox.
FEEDING_INBOX = {
    REPLICA_TABLE: "order",
    SUMMARY_TABLE: "customer-read",
    SUMMARY_ORDER_TABLE: "customer-read",
    ORDER_VIEW_TABLE: "order-read",
    ORDER_VIEW_CUSTOMER_TABLE: "order-read",
}


def lost_and_not_yet_applied(ctx: ScenarioContext) -> tuple[int | None, int | None]:
    """Customer changes absent from the replica: (lost, not yet applied)."""
    differing = replica_differences(ctx)
    if differing is None:
        return None, None
    on_the_way = still_on_the_way(ctx, differing)
    return len(differing) - len(on_the_way), len(on_the_way)


def still_on_the_way(ctx: ScenarioContext, customer_ids: list[str]) -> set[str]:
    """Which differing customers' events the platform still carries."""
    quiescence = ctx.quiescence
    if not customer_ids or quiescence is None or quiescence.quiet:
        return set()
    if quiescence.left.waiting_for(FEEDING_INBOX[REPLICA_TABLE]):
        return set(customer_ids)
    return ctx.probe.pending_aggregates("customer", customer_ids)


def replica_differences(ctx: ScenarioContext) -> list[str] | None:
    """The scenario's customers whose replica does not match the customer service.

    Compares each of the scenario's customers in the customer service's
    database with the order service's replica: a missing registration, a
    deleted customer still live downstream, or a stale name or email.
    """
    if not ctx.keeps_replica or not ctx.customers:
        return None
    upstream = _scenario_customers(ctx, "customer", CUSTOMER_TABLE, "name, email")
    downstream = _scenario_customers(
        ctx, "order", REPLICA_TABLE, "name, email, deleted"
    )
    differing = []
    for customer_id in ctx.customers:
        replica = downstream.get(customer_id)
        if customer_id in upstream:
            if replica is None or replica[2] or replica[:2] != upstream[customer_id]:
                differing.append(customer_id)
        elif replica is not None and not replica[2]:
            differing.append(customer_id)
    return differing


def _scenario_customers(
    ctx: ScenarioContext, service: str, table: str, columns: str
) -> dict[str, tuple]:
    """The scenario's customers in a service's ``table``: id -> ``columns``."""
    rows = ctx.query(
        service,
        f"SELECT id::text, {columns} FROM {table} WHERE id::text = ANY(%s)",
        [ctx.customers],
    )
    return {row[0]: row[1:] for row in rows}


def duplicate_effects(ctx: ScenarioContext) -> int | None:
    """Effects applied more than once: an order changed more often than it was
    commanded, or a summary counting more orders than exist."""
    if not ctx.keeps_replica or not ctx.customers:
        return None
    duplicated = ctx.query(
        "order",
        f"SELECT count(*) FROM {ORDER_TABLE} WHERE customer_id::text = ANY(%s) "
        # placed (1), approved or rejected (2), cancelled (at most 3)
        "AND version > CASE status WHEN 'pending' THEN 1 WHEN 'cancelled' THEN 3 "
        "ELSE 2 END",
        [ctx.customers],
    )[0][0]
    if ctx.run.info.read_side:
        orders = dict(
            ctx.query(
                "order",
                f"SELECT customer_id::text, count(*) FROM {ORDER_TABLE} "
                "WHERE customer_id::text = ANY(%s) GROUP BY customer_id",
                [ctx.customers],
            )
        )
        for customer_id, counted in ctx.query(
            "customer",
            f"SELECT customer_id::text, order_count FROM {SUMMARY_TABLE} "
            "WHERE customer_id::text = ANY(%s)",
            [ctx.customers],
            read=True,
        ):
            if counted > orders.get(customer_id, 0):
                duplicated += counted - orders.get(customer_id, 0)
    return duplicated


def lag_samples(ctx: ScenarioContext) -> list[float]:
    """Commit-to-apply times (ms) of the events this scenario caused downstream:
    the replica (approaches 3, 4) or the read models (approach 5)."""
    if not ctx.run.uses_events:
        return []
    read = ctx.run.info.read_side
    rows = ctx.query(
        "order",
        "SELECT EXTRACT(EPOCH FROM (processed_at - occurred_at)) * 1000 "
        f"FROM {PROCESSED_EVENT_TABLE} WHERE processed_at >= %s",
        [ctx.started_at],
        read=read,
    )
    return sorted(float(row[0]) for row in rows)


def events_stored(ctx: ScenarioContext) -> int | None:
    """Events the write sides stored during the scenario: PostgreSQL's event
    stores, or the DynamoDB event tables under ``EVENT_STORE=dynamodb``."""
    if "customer" not in ctx.run.info.outbox_services:
        return None
    tables = EventTables.of_platform(ctx.run)
    if tables is not None:
        return tables.events_committed_since(ctx.started_at)
    return sum(
        ctx.query(
            service,
            f"SELECT count(*) FROM {EVENT_STORE_TABLE} WHERE recorded_at >= %s",
            [ctx.started_at],
        )[0][0]
        for service in ("customer", "order")
    )


def percentile(samples: list[float], fraction: float) -> float | None:
    if not samples:
        return None
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[
        min(98, max(0, round(fraction * 100) - 1))
    ]


def measure(ctx: ScenarioContext) -> Measurements:
    finished = ctx.finished or time.monotonic()
    samples = lag_samples(ctx)
    failed = dict(ctx.client.failures)
    for key, count in ctx.order_service_failures.items():
        failed[key] = failed.get(key, 0) + count
    lost, not_yet_applied = lost_and_not_yet_applied(ctx)
    quiescence = ctx.quiescence
    return Measurements(
        orphan_orders=orphan_orders(ctx),
        events_lost=lost,
        not_yet_applied=not_yet_applied,
        backlog_at_end=ctx.backlog_at_end.total if ctx.backlog_at_end else None,
        drain_seconds=(
            quiescence.waited_seconds if quiescence and quiescence.quiet else None
        ),
        duplicate_effects=duplicate_effects(ctx),
        failed_requests=failed,
        lag_p50_ms=percentile(samples, 0.50),
        lag_p99_ms=percentile(samples, 0.99),
        lag_samples_ms=samples,
        commands_per_second=ctx.commands_ok / max(finished - ctx.started, 1e-6),
        events_stored=events_stored(ctx),
        figures={group: dict(values) for group, values in ctx.figures.items()},
        answers=[
            (round(at - ctx.started, 3), status)
            for at, status in ctx.client.answers
            if at >= ctx.started
        ],
    )

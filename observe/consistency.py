"""The platform's view across both services' data: orphan orders.

An orphan order is an order that is still open (pending or approved) although
its customer no longer exists in the customer service. The report reads both
databases directly, like an auditor would: it counts what the data says, not
what the code meant to do.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import psycopg2

from observe.tables import CUSTOMER_TABLE, ORDER_TABLE
from shared_events.configuration import current_approach, database_url, load_env


@dataclass(frozen=True)
class OrphanOrder:
    order_id: str
    customer_id: str


@dataclass
class ConsistencyReport:
    approach: str
    open_orders: int
    orphan_orders: list[OrphanOrder] = field(default_factory=list)


def consistency_report() -> ConsistencyReport:
    """The report for the approach and databases configured in this process."""
    env = load_env()
    approach = current_approach(env)
    return orphan_orders_between(
        approach=approach.value,
        order_database_url=database_url(env=env, service="order", approach=approach),
        customer_database_url=database_url(
            env=env, service="customer", approach=approach
        ),
    )


def orphan_orders_between(
    *, approach: str, order_database_url: str, customer_database_url: str
) -> ConsistencyReport:
    order_url, customer_url = order_database_url, customer_database_url
    with psycopg2.connect(order_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id::text, customer_id::text FROM {ORDER_TABLE} "
            "WHERE status IN ('pending', 'approved') ORDER BY created_at, id"
        )
        open_orders = cursor.fetchall()
    connection.close()
    customer_ids = sorted({customer_id for _, customer_id in open_orders})
    with psycopg2.connect(customer_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id::text FROM {CUSTOMER_TABLE} WHERE id::text = ANY(%s)",
            [customer_ids],
        )
        known = {row[0] for row in cursor.fetchall()}
    connection.close()
    orphans = [
        OrphanOrder(order_id=order_id, customer_id=customer_id)
        for order_id, customer_id in open_orders
        if customer_id not in known
    ]
    return ConsistencyReport(
        approach=approach, open_orders=len(open_orders), orphan_orders=orphans
    )


def render_report(report: ConsistencyReport, *, as_json: bool = False) -> str:
    if as_json:
        return json.dumps(asdict(report), indent=2)
    lines = [
        f"Approach: {report.approach}",
        f"Open orders: {report.open_orders}",
        f"Orphan orders: {len(report.orphan_orders)}",
    ]
    for orphan in report.orphan_orders:
        lines.append(f"  order {orphan.order_id}  customer {orphan.customer_id} (gone)")
    return "\n".join(lines)

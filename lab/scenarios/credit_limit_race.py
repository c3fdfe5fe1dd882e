"""A rule across two services: orders placed at once against one credit limit.

The customer service owns each customer's credit limit, the order service
the orders; no transaction spans the two. For a few customers, several
orders are placed at the same moment, each worth 60% of the customer's
limit: any two of them together are over it.

* Under approaches 1 to 3 the order service checks the limit, then places
  (``order_service.orders.credit.CheckThenPlace``): it asks what the limit
  is (over REST under db_per_service), adds up the customer's open orders,
  and writes. Two requests both check before either writes, and both pass:
  the limit is broken, with every request answered 201. On its own the
  window between the check and the write is a few milliseconds, which two
  requests hit on some runs and miss on others; the orders here go to a
  second order service started with ``FAULT_INJECTION=slow_credit_check:300``,
  which holds each check's answer 300 ms before writing, so the race the
  platform has at any load is the one every run shows.
* Under approaches 4 and 5 the orders are placed PENDING and the customer
  service answers each ``OrderPlaced`` from the reservations its Customer
  aggregate keeps, one at a time: one order per customer is approved, the
  others rejected, and none is left pending once the platform is quiet.

Measured after the platform is quiet: orders placed, approved, rejected,
still pending and refused at once; the most a customer's approved orders
add up to, as a share of the limit; and the customers whose limit was
broken.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import requests

from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario
from observe.tables import ORDER_TABLE

CUSTOMERS = 3
ORDERS_AT_ONCE = 6
SHARE_OF_THE_LIMIT = Decimal("0.60")
# How long the second order service holds each credit check's answer
# (order_service.orders.credit reads the fault).
HOLD_MS = 300
HELD_CHECK = f"slow_credit_check:{HOLD_MS}"

ORDERS = "orders"
PLACED = "placed"
APPROVED = "approved"
REJECTED = "rejected"
PENDING = "pending"
REFUSED = "refused at once"
CREDIT = "credit"
LIMIT = "limit"
MOST_HELD = "most held, % of limit"
BROKEN = "customers over the limit"
OF = "of"


class CreditLimitRace(Scenario):
    name = "credit-limit-race"
    title = (
        f"{ORDERS_AT_ONCE} orders at once, each {SHARE_OF_THE_LIMIT:.0%} of the "
        "customer's credit limit"
    )

    def run(self, ctx: ScenarioContext) -> None:
        order_url = self._order_service(ctx)
        refused, limit = 0, Decimal("0")
        for number in range(CUSTOMERS):
            customer = ctx.register_known(f"Credit Case {number}")
            limit = Decimal(customer["credit_limit"])
            amount = (limit * SHARE_OF_THE_LIMIT).quantize(Decimal("0.01"))
            statuses = self._place_at_once(ctx, order_url, customer["id"], amount)
            refused += sum(1 for status in statuses if status == 400)
            ctx.notes.append(f"customer {number}: answers {sorted(statuses)}")
        # What the client saw; settle() adds how the orders ended.
        ctx.figures[ORDERS] = {REFUSED: refused}
        ctx.figures[CREDIT] = {LIMIT: float(limit)}

    @staticmethod
    def _order_service(ctx: ScenarioContext) -> str:
        """Where the orders go: where the order service checks, then places,
        a second instance holding the check open; else the platform's own."""
        if ctx.run.info.event_sourced("order"):
            return ctx.run.url("order")
        instance = ctx.start_instance("order", {"FAULT_INJECTION": HELD_CHECK})
        ctx.notes.append(
            f"orders placed through a second order service holding each credit "
            f"check's answer {HOLD_MS} ms before the write"
        )
        return instance.base_url

    def _place_at_once(
        self, ctx: ScenarioContext, order_url: str, customer_id: str, amount: Decimal
    ) -> list[int]:
        url = f"{order_url}/api/orders/place/"
        headers = dict(ctx.client.session.headers)
        body = {
            "customer_id": customer_id,
            "lines": [{"sku": "CREDIT-1", "quantity": 1, "unit_price": str(amount)}],
        }

        def place(_: int) -> requests.Response | None:
            try:
                return requests.post(url, json=body, headers=headers, timeout=30)
            except requests.RequestException:
                return None

        with ThreadPoolExecutor(max_workers=ORDERS_AT_ONCE) as pool:
            responses = list(pool.map(place, range(ORDERS_AT_ONCE)))
        statuses = []
        for response in responses:
            status = 0 if response is None else response.status_code
            statuses.append(status)
            if status == 201:
                ctx.orders.append(response.json()["id"])
                ctx.commands_ok += 1
            elif status != 400:  # 400: refused by the limit, the rule at work
                ctx.client.failures[str(status or "connection error")] += 1
        return statuses

    def settle(self, ctx: ScenarioContext, progress=print) -> None:
        """Wait for quiet (the saga's answers), then count how orders ended."""
        super().settle(ctx, progress)
        rows = ctx.query(
            "order",
            f"SELECT customer_id::text, status, total FROM {ORDER_TABLE} "
            "WHERE customer_id::text = ANY(%s)",
            [ctx.customers],
        )
        counts = {APPROVED: 0, REJECTED: 0, PENDING: 0}
        held: dict[str, Decimal] = dict.fromkeys(ctx.customers, Decimal("0"))
        for customer_id, status, total in rows:
            counts[status] = counts.get(status, 0) + 1
            if status == APPROVED:
                held[customer_id] += total
        most = max(held.values(), default=Decimal("0"))
        limit = Decimal(str(ctx.figures[CREDIT][LIMIT]))
        ctx.figures[ORDERS] = {
            PLACED: len(rows),
            APPROVED: counts[APPROVED],
            REJECTED: counts[REJECTED],
            PENDING: counts[PENDING],
            REFUSED: ctx.figures[ORDERS][REFUSED],
        }
        ctx.figures[CREDIT] = {
            LIMIT: float(limit),
            MOST_HELD: round(float(most / limit * 100), 1) if limit else None,
            BROKEN: sum(1 for value in held.values() if value > limit),
            OF: CUSTOMERS,
        }

    def lesson(self, approach: str, measured: Measurements) -> str:
        orders = measured.figures.get(ORDERS, {})
        credit = measured.figures.get(CREDIT, {})
        broken, most = credit.get(BROKEN, 0), credit.get(MOST_HELD)
        if broken:
            return (
                f"the limit was broken for {broken} of {CUSTOMERS} customers (up to "
                f"{most}% of it held): each order was checked, then placed, and "
                "orders placed at once all passed the check before any was written"
            )
        if orders.get(PENDING):
            return (
                f"{orders[PENDING]} orders still pending: the customer service's "
                "answer had not arrived when the platform was measured"
            )
        return (
            f"the limit held for every customer (at most {most}% of it): "
            f"{orders.get(APPROVED, 0)} orders approved, {orders.get(REJECTED, 0)} "
            f"rejected and {orders.get(REFUSED, 0)} refused at once, none pending"
        )

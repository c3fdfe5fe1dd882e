"""The customer service answers late, not never, while orders keep coming.

Paper, sections I and 2.2: a synchronous call makes the caller as slow as
the service it calls. Clients place orders at a steady rate (``lab.steady_load``)
in three phases:

1. healthy: the platform as it is, for reference;
2. slow: the customer service answers half its requests 800 ms late
   (``FAULT_INJECTION=slow_responses:800@0.5``), and the order service waits
   at most 500 ms for it (``CUSTOMER_SERVICE_TIMEOUT=0.5``);
3. slow, with the order service's naive retry policy switched on
   (``CUSTOMER_SERVICE_RETRIES=2``: up to two more attempts, at once).

Measured per phase: orders placed per second, placement latency p50/p99,
placements refused because the customer lookup timed out, the requests the
customer service handled per placement (counted from its access log,
``observe.access_log``) and the order service's workers busy on average.

What a learner should notice: under ``db_per_service`` a late answer half the
time costs half the orders (each timed out after holding an order worker for
the whole timeout), and the retries win some of them back by sending the
slow service nearly twice the requests, each one waited for again: the
amplification that turns a slow service into an overloaded one. Under the
event-driven approaches placing an order asks nobody: the customer service
receives nothing, and the numbers do not move. The delay hits half the
requests, not all: were every answer later than the timeout, the service
would look exactly as if it were down (customer-service-down).

The slow customer service and the order service that calls it are second
instances of the services (``ScenarioContext.start_instance``), started with
those settings beside the platform's own, which keep theirs: one start of
three processes at once, instead of four restarts of the platform's.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario
from lab.steady_load import LoadOutcome, place_steadily
from observe.access_log import AccessLog
from stack.loopback import free_port

DELAY_MS = 800
SLOW_SHARE = 0.5
TIMEOUT_SECONDS = 0.5
RETRIES = 2
RATE_PER_SECOND = 6.0
PHASE_SECONDS = 2.5
CUSTOMERS = 3

HEALTHY = "healthy"
SLOW = "slow"
RETRYING = f"slow, {RETRIES} retries"
PHASES = (HEALTHY, SLOW, RETRYING)

# The figures of each phase, as the report names them.
PER_SECOND = "cmd/s"
P50 = "p50 ms"
P99 = "p99 ms"
TIMEOUTS = "timeouts"
CUSTOMER_REQUESTS = "customer req/cmd"
BUSY = "busy workers"

# What the order service asks the customer service (and nothing else does).
LOOKUPS = "/api/customers/"


class SlowCustomerService(Scenario):
    name = "slow-customer-service"
    title = (
        f"the customer service answers {SLOW_SHARE:.0%} of its requests "
        f"{DELAY_MS} ms late while orders keep coming, with and without retries"
    )

    def run(self, ctx: ScenarioContext) -> None:
        customers = [
            ctx.register_known(f"Slow Case {i}")["id"] for i in range(CUSTOMERS)
        ]
        calls = ctx.run.info.asks_customer_service
        self._phase(
            ctx,
            HEALTHY,
            order_url=ctx.run.url("order"),
            customer_log=AccessLog(ctx.run.services["customer"].log_path),
            customers=customers,
        )
        slow_customer, order_urls = self._start_slow_instances(ctx, retries=calls)
        log = AccessLog(slow_customer.log_path)
        self._phase(
            ctx, SLOW, order_url=order_urls[0], customer_log=log, customers=customers
        )
        if calls:
            self._phase(
                ctx,
                RETRYING,
                order_url=order_urls[1],
                customer_log=log,
                customers=customers,
            )
        else:
            ctx.notes.append(
                "no retry phase: the order service makes no call it could retry"
            )

    @staticmethod
    def _start_slow_instances(ctx: ScenarioContext, *, retries: bool):
        """The slow customer service, and order services that call it: one
        without retries, one with them (where the approach calls at all)."""
        slow_port = free_port()
        caller = {
            "CUSTOMER_SERVICE_URL": f"http://127.0.0.1:{slow_port}",
            "CUSTOMER_SERVICE_TIMEOUT": str(TIMEOUT_SECONDS),
        }
        attempts = [0, RETRIES] if retries else [0]
        # Started at once: an order service does not call the customer
        # service before it is asked to place an order.
        with ThreadPoolExecutor(max_workers=1 + len(attempts)) as pool:
            slow = pool.submit(
                ctx.start_instance,
                "customer",
                {"FAULT_INJECTION": f"slow_responses:{DELAY_MS}@{SLOW_SHARE}"},
                port=slow_port,
            )
            orders = [
                pool.submit(
                    ctx.start_instance,
                    "order",
                    {**caller, "CUSTOMER_SERVICE_RETRIES": str(count)},
                )
                for count in attempts
            ]
            slow_customer = slow.result()
            order_urls = [future.result().base_url for future in orders]
        ctx.notes.append(
            f"a second customer service answering {SLOW_SHARE:.0%} of its requests "
            f"{DELAY_MS} ms late (port {slow_port}), and order services waiting at "
            f"most {TIMEOUT_SECONDS} s for it, with {' and '.join(map(str, attempts))} "
            "retries"
        )
        return slow_customer, order_urls

    @staticmethod
    def _phase(
        ctx: ScenarioContext,
        phase: str,
        *,
        order_url: str,
        customer_log: AccessLog,
        customers: list[str],
    ) -> LoadOutcome:
        before = customer_log.requests(method="GET", path_prefix=LOOKUPS)
        outcome = place_steadily(
            order_url=order_url,
            token=ctx.run.token,
            customer_ids=customers,
            rate=RATE_PER_SECOND,
            seconds=PHASE_SECONDS,
        )
        # A request the order service gave up on is still being handled: it
        # reaches the access log once the customer service has answered it.
        if phase != HEALTHY:
            time.sleep(DELAY_MS / 1000 + 0.3)
        asked = customer_log.requests(method="GET", path_prefix=LOOKUPS) - before
        ctx.commands_ok += outcome.placed
        for status, count in outcome.failed.items():
            ctx.client.failures[status] += count
        ctx.figures[phase] = {
            PER_SECOND: round(outcome.commands_per_second, 1),
            P50: _rounded(outcome.latency_ms(0.50)),
            P99: _rounded(outcome.latency_ms(0.99)),
            TIMEOUTS: outcome.timeouts,
            CUSTOMER_REQUESTS: round(asked / len(outcome.placements), 2),
            BUSY: round(outcome.in_flight, 1),
        }
        return outcome

    def lesson(self, approach: str, measured: Measurements) -> str:
        figures = measured.figures
        healthy, slow = figures.get(HEALTHY, {}), figures.get(SLOW, {})
        if not slow:
            return "the scenario did not reach its slow phase"
        if not slow.get(CUSTOMER_REQUESTS) and not slow.get(TIMEOUTS):
            return (
                "placing an order asked the slow customer service nothing (0 "
                f"requests per order) and none failed: {slow[PER_SECOND]} orders/s "
                f"while it was slow, against {healthy.get(PER_SECOND)} before; the "
                "order service knows its customers without asking"
            )
        lesson = (
            f"with the customer service slow, orders/s fell from "
            f"{healthy.get(PER_SECOND)} to {slow[PER_SECOND]} and p99 rose from "
            f"{healthy.get(P99) or 0:.0f} to {slow[P99]:.0f} ms; "
            f"{slow[TIMEOUTS]} placements timed out, each holding an order worker "
            f"for the whole {TIMEOUT_SECONDS} s ({slow[BUSY]} busy on average)"
        )
        retrying = figures.get(RETRYING)
        if retrying:
            lesson += (
                f". With {RETRIES} immediate retries the customer service received "
                f"{retrying[CUSTOMER_REQUESTS]} requests per order instead of "
                f"{slow[CUSTOMER_REQUESTS]}, and p99 reached {retrying[P99]:.0f} ms "
                f"({retrying[TIMEOUTS]} still timed out): retries multiply the "
                "load on the service that is already slow"
            )
        return lesson


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value)

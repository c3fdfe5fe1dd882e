"""The producer dies between its commit and its publish.

A customer with two orders is deleted through a second customer service
started with ``FAULT_INJECTION=crash_before_publish:CustomerDeleted``: the
process commits the deletion and dies before the event leaves it. Under a
dual write (direct_publish) the event is lost for good and the orders are
orphaned; with an outbox (or a DynamoDB item whose stream is the outbox)
the committed event is published from there.
"""

from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario

FAULT = "crash_before_publish:CustomerDeleted"


class CrashBeforePublish(Scenario):
    name = "crash-before-publish"
    title = "kill the producer between commit and publish"

    def run(self, ctx: ScenarioContext) -> None:
        # The deletion goes to a second customer service started with the
        # fault (the same code on the same databases); the platform's own
        # keeps serving, so nothing needs restarting afterwards.
        faulty = ctx.start_instance("customer", {"FAULT_INJECTION": FAULT})
        customer = ctx.register_known("Crash Case")
        ctx.place_order(customer["id"])
        ctx.place_order(customer["id"])
        own = ctx.client.customer_url
        ctx.client.customer_url = faulty.base_url
        try:
            if not ctx.delete(customer["id"]):
                ctx.notes.append("the customer service died after committing")
        finally:
            ctx.client.customer_url = own

    def lesson(self, approach: str, measured: Measurements) -> str:
        if measured.events_lost:
            return (
                f"{measured.events_lost} event lost for good: the delete committed, "
                "the process died before publishing, and nothing retries a dual "
                f"write ({measured.orphan_orders} orphan orders)"
            )
        if measured.events_lost == 0:
            return (
                "the same crash lost nothing: the event was committed with the "
                "change (an outbox row, or a DynamoDB item whose stream is the "
                "outbox) and published from there"
            )
        return "no event to lose: this approach publishes none" + (
            f", but {measured.orphan_orders} orders are orphaned"
            if measured.orphan_orders
            else ""
        )

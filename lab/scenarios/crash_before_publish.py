from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario

FAULT = "crash_before_publish:CustomerDeleted"


class CrashBeforePublish(Scenario):
    name = "crash-before-publish"
    title = "kill the producer between commit and publish"

    def run(self, ctx: ScenarioContext) -> None:
        ctx.run.restart_web("customer", extra_env={"FAULT_INJECTION": FAULT})
        try:
            customer = ctx.register_known("Crash Case")
            ctx.place_order(customer["id"])
            ctx.place_order(customer["id"])
            if not ctx.delete(customer["id"]):
                ctx.notes.append("the customer service died after committing")
        finally:
            ctx.run.restart_web("customer")

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

from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario

PLACEMENTS = 3


class CustomerServiceDown(Scenario):
    name = "customer-service-down"
    title = "stop the customer service, place orders"

    def run(self, ctx: ScenarioContext) -> None:
        customer = ctx.register_known("Outage Case")
        ctx.run.stop_service("customer")
        try:
            for index in range(PLACEMENTS):
                ctx.place_order(customer["id"], sku=f"DOWN-{index}")
        finally:
            ctx.run.restart_web("customer")

    def lesson(self, approach: str, measured: Measurements) -> str:
        failed = measured.failed_request_count
        if failed:
            return (
                f"{failed} of {PLACEMENTS} placements failed while the customer "
                "service was down: a synchronous call couples availability"
            )
        return (
            f"all {PLACEMENTS} placements succeeded while the customer service was "
            "down: the order service does not call it"
        )

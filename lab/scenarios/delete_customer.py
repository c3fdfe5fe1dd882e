from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario


class DeleteCustomer(Scenario):
    name = "delete-customer"
    title = "register customers, place orders, delete a customer"

    def run(self, ctx: ScenarioContext) -> None:
        customers = [ctx.register(f"Delete Case {i}") for i in range(3)]
        for customer in customers:
            ctx.wait_replicated(customer["id"])
            for _ in range(2):
                ctx.place_order(customer["id"])
        ctx.delete(customers[0]["id"])

    def lesson(self, approach: str, measured: Measurements) -> str:
        if measured.orphan_orders:
            return (
                f"{measured.orphan_orders} orders stay open for a deleted customer: "
                "nothing told the order service"
            )
        return "no orphan orders: the order service learned of the delete"

"""Delete a customer who has open orders: what becomes of the orders.

Two requests, as a client would send them. First a plain deletion: where
the customer service knows the orders holding the customer's credit (the
credit saga, approaches 4 and 5) it refuses, answers 409 and records the
refusal as ``CustomerDeletionRejected`` (failures are events too); elsewhere
it cannot know of any order and deletes. Then, if refused, the deletion
with ``open_orders=cancel``: the customer is deleted and the order service
cancels the orders when ``CustomerDeleted`` reaches it.

Measured: orphan orders (open orders of a customer who no longer exists),
and the deletions refused at first.
"""

from lab.context import ScenarioContext, wait_for
from lab.measurements import Measurements
from lab.scenarios.base import Scenario
from observe.tables import ORDER_TABLE

ORDERS_PER_CUSTOMER = 2
ANSWER_TIMEOUT_SECONDS = 15.0

DELETION = "deletion"
REFUSED = "refused at first (409)"
OPEN_ORDERS = "open orders"


class DeleteCustomer(Scenario):
    name = "delete-customer"
    title = "register customers, place orders, delete a customer"

    def run(self, ctx: ScenarioContext) -> None:
        customers = [ctx.register(f"Delete Case {i}") for i in range(3)]
        for customer in customers:
            ctx.wait_replicated(customer["id"])
            for _ in range(ORDERS_PER_CUSTOMER):
                ctx.place_order(customer["id"])
        doomed = customers[0]["id"]
        # Where the credit saga runs, its answers first: a deletion refused
        # for open orders must not depend on how fast they came.
        wait_for(lambda: not _pending(ctx, doomed), timeout=ANSWER_TIMEOUT_SECONDS)
        refused = _refused(ctx, doomed)
        if refused:
            ctx.delete(doomed)
        else:
            ctx.deleted_customers.append(doomed)
            ctx.commands_ok += 1
        ctx.figures[DELETION] = {
            REFUSED: int(refused),
            OPEN_ORDERS: ORDERS_PER_CUSTOMER,
        }

    def lesson(self, approach: str, measured: Measurements) -> str:
        refused = measured.figures.get(DELETION, {}).get(REFUSED)
        first = (
            "the customer service refused the first deletion (409, recorded as "
            "CustomerDeletionRejected: it knows the orders holding credit), then "
            "deleted with open_orders=cancel; "
            if refused
            else ""
        )
        if measured.orphan_orders:
            return (
                f"{first}{measured.orphan_orders} orders stay open for a deleted "
                "customer: nothing told the order service"
            )
        return f"{first}no orphan orders: the order service learned of the delete"


def _pending(ctx: ScenarioContext, customer_id: str) -> bool:
    return bool(
        ctx.query(
            "order",
            f"SELECT 1 FROM {ORDER_TABLE} WHERE customer_id::text = %s "
            "AND status = 'pending'",
            [customer_id],
        )
    )


def _refused(ctx: ScenarioContext, customer_id: str) -> bool:
    """A plain deletion (``open_orders=refuse``); True when it was refused
    (409: the rule at work, not a failure)."""
    response = ctx.client.session.post(
        f"{ctx.client.customer_url}/api/customers/{customer_id}/delete/",
        json={"open_orders": "refuse"},
        timeout=10,
    )
    if response.status_code == 409:
        return True
    response.raise_for_status()
    return False

"""The consumers stop while the customer service keeps changing customers.

Measured while they are still down: every change is committed upstream and
absent downstream, and none of it is lost. The events wait in the order
service's queue (an SQS queue keeps a message for up to 14 days) and are
applied once the consumers are back. Under ``EVENT_DELIVERY=kinesis`` they
wait on the stream, past the stopped functions' checkpoints; under
``EVENT_STORE=dynamodb`` the stopped runner also publishes, so they wait on
the event table's stream before that. A learner should notice the two
figures side by side: "not yet applied" is lag, "lost" is what no amount of
waiting brings back (see crash-before-publish under direct_publish).
"""

from __future__ import annotations

from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario


class ConsumersDown(Scenario):
    name = "consumers-down"
    title = "the consumers stop; customers are registered and deleted meanwhile"
    # Nothing drains while the consumers are down; the wait only lets the
    # relays move the outboxes into the queues.
    settle_seconds = 4.0

    def run(self, ctx: ScenarioContext) -> None:
        known = [ctx.register(f"Known Before {i}") for i in range(2)]
        for customer in known:
            ctx.wait_replicated(customer["id"])
        stopped = ctx.stop_consumers()
        if stopped:
            ctx.notes.append(f"stopped {', '.join(stopped)} until measured")
        ctx.delete(known[0]["id"])
        newcomers = [ctx.register(f"Registered While Down {i}") for i in range(2)]
        status = ctx.place_order(newcomers[0]["id"])
        ctx.notes.append(
            f"an order for a customer registered while the consumers were down "
            f"answered {status}"
        )

    def lesson(self, approach: str, measured: Measurements) -> str:
        if measured.not_yet_applied is None:
            return "no consumers in this approach: the order service asks or shares"
        lost = (
            f"{measured.events_lost} lost"
            if measured.events_lost
            else "nothing lost: the events wait in the queue (or on the stream) "
            "until a consumer is back"
        )
        refused = measured.failed_request_count
        refusal = (
            f"; {refused} order refused for a customer the order service has not "
            "heard of yet"
            if refused
            else ""
        )
        return (
            f"{measured.not_yet_applied} changes not yet applied while the "
            f"consumers were down, {lost}{refusal}"
        )

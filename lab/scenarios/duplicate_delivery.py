"""Every event is delivered more than once.

A tap queue, subscribed to both topics like any other inbox, sees every event
the services publish; the lab then sends each one again to every inbox that
subscribes to its producer. Under ``EVENT_DELIVERY=kinesis`` the tap reads
the streams instead and puts each record on its stream again, where every
function reading the stream meets it twice. The consumers must notice and
apply it once.
"""

from __future__ import annotations

from lab.backends import Backend
from lab.context import ScenarioContext, wait_for
from lab.measurements import Measurements
from lab.scenarios.base import Scenario
from observe.tap import EventTap, StreamTap, open_tap


class DuplicateDelivery(Scenario):
    name = "duplicate-delivery"
    title = "every event is delivered twice"

    def skip_reason(self, backend: Backend) -> str | None:
        if backend.delivery == "sqs":
            return (
                "under EVENT_DELIVERY=sqs producers send to each inbox themselves: "
                "there is no topic for the tap to subscribe to"
            )
        return None

    def run(self, ctx: ScenarioContext) -> None:
        tap = open_tap(ctx.run, name="lab-tap") if ctx.run.uses_events else None
        customer = ctx.register_known("Duplicate Case")
        ctx.place_order(customer["id"])
        ctx.place_order(customer["id"])
        ctx.delete(customer["id"])
        if tap is not None:
            ctx.notes.append(f"redelivered {redeliver(tap)} messages")
            tap.close()

    def lesson(self, approach: str, measured: Measurements) -> str:
        if measured.duplicate_effects is None:
            return "no events, so nothing to deliver twice"
        if measured.duplicate_effects:
            return f"{measured.duplicate_effects} effects applied twice"
        return (
            "every event arrived twice and took effect once: the consumers record "
            "each event id with its effect, in one transaction"
        )


def redeliver(tap: EventTap | StreamTap) -> int:
    """Send every tapped event again; waits for the delete and what follows."""

    def drained() -> bool:
        tap.drain(wait_seconds=1)
        return any('"CustomerDeleted"' in m["Body"] for m in tap.seen)

    wait_for(drained, timeout=15)
    return tap.send_again(tap.seen)

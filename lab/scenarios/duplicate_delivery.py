"""Every event is delivered more than once.

A tap queue, subscribed to both topics like any other inbox, sees every event
the services publish; the lab then sends each one again to every inbox that
subscribes to its producer. The consumers must notice and apply it once.
"""

from __future__ import annotations

from lab.context import ScenarioContext, wait_for
from lab.measurements import Measurements
from lab.scenarios.base import Scenario
from observe.tap import EventTap


class DuplicateDelivery(Scenario):
    name = "duplicate-delivery"
    title = "every event is delivered twice"

    def run(self, ctx: ScenarioContext) -> None:
        tap = _Tap(ctx) if ctx.run.uses_events else None
        customer = ctx.register_known("Duplicate Case")
        ctx.place_order(customer["id"])
        ctx.place_order(customer["id"])
        ctx.delete(customer["id"])
        if tap is not None:
            ctx.notes.append(f"redelivered {tap.redeliver()} messages")
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


class _Tap(EventTap):
    def __init__(self, ctx: ScenarioContext) -> None:
        super().__init__(ctx.run, name="lab-tap")

    def redeliver(self) -> int:
        """Send every tapped event again; waits for the delete and what follows."""

        def drained() -> bool:
            self.drain(wait_seconds=1)
            return any('"CustomerDeleted"' in m["Body"] for m in self.seen)

        wait_for(drained, timeout=15)
        return self.send_again(self.seen)

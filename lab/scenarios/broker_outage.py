"""The broker refuses connections for a while, then recovers.

Every process reaches the local AWS through a proxy (stack.tcp_proxy); the
scenario cuts it for a few seconds while a customer is deleted and another
registered. A dual write loses what it could not publish; an outbox keeps
it and the relay publishes it once the broker is back.

Skipped under ``EVENT_STORE=dynamodb``: there the event store is on the
local AWS too, so the same cut refuses the commands themselves (503 before
anything is committed) instead of testing what an outbox keeps. The
reliability suite injects that backend's own faults (a throttled ``PutItem``).
"""

from __future__ import annotations

import time

from lab.backends import Backend
from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario

OUTAGE_SECONDS = 4.0


class BrokerOutage(Scenario):
    name = "broker-outage"
    title = "the broker refuses connections for a while, then recovers"
    # The relay backs off while the broker refuses, and may have to be
    # restarted by the supervisor: give the recovery time.
    settle_seconds = 30.0

    def skip_reason(self, backend: Backend) -> str | None:
        if backend.store == "dynamodb":
            return (
                "under EVENT_STORE=dynamodb the event store is on the AWS side too: "
                "cutting it off refuses the commands (503) before anything commits, "
                "so there is no outbox whose events could wait"
            )
        return None

    def run(self, ctx: ScenarioContext) -> None:
        before = ctx.register_known("Outage Before")
        ctx.place_order(before["id"])
        proxy = ctx.run.broker_proxy
        if proxy is not None:
            proxy.refuse()
        started = time.monotonic()
        try:
            ctx.delete(before["id"])
            ctx.register("Outage During")
            remaining = OUTAGE_SECONDS - (time.monotonic() - started)
            if remaining > 0:
                time.sleep(remaining)
        finally:
            if proxy is not None:
                proxy.restore()
        if ctx.keeps_replica:
            ctx.wait_replicated(ctx.customers[-1], timeout=10)

    def lesson(self, approach: str, measured: Measurements) -> str:
        if measured.events_lost is None:
            return "no broker in this approach: the outage changes nothing"
        if measured.events_lost:
            return (
                f"{measured.events_lost} events lost: published while the broker "
                "refused, and a dual write does not retry"
            )
        return (
            "nothing lost: the events waited in the outbox until the broker came back"
        )

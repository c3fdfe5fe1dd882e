"""A sustained load of commands for a fixed time."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from lab.context import ScenarioContext
from lab.measurements import Measurements
from lab.scenarios.base import Scenario

SECONDS = 6.0
CLIENTS = 4


class Burst(Scenario):
    name = "burst"
    title = f"{CLIENTS} clients register customers and place orders for {SECONDS:.0f}s"

    def run(self, ctx: ScenarioContext) -> None:
        deadline = time.monotonic() + SECONDS
        numbers = itertools.count()
        lock = threading.Lock()

        def client_loop() -> None:
            while time.monotonic() < deadline:
                with lock:
                    number = next(numbers)
                try:
                    customer = ctx.register(f"Burst {number}")
                except Exception:
                    continue
                if ctx.keeps_replica:
                    continue  # orders need the replica; placed after the burst
                ctx.place_order(customer["id"])

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            for _ in range(CLIENTS):
                pool.submit(client_loop)
        ctx.finished = time.monotonic()

    def lesson(self, approach: str, measured: Measurements) -> str:
        rate = f"{measured.commands_per_second:.1f} commands/s"
        if measured.backlog_at_end is None:
            return f"{rate}; no events, so no backlog: every read sees the last write"
        lag = ""
        if measured.lag_p99_ms is not None:
            lag = (
                f"; commit-to-apply lag p50 {measured.lag_p50_ms / 1000:.1f} s, "
                f"p99 {measured.lag_p99_ms / 1000:.1f} s"
            )
        queued = f"{measured.backlog_at_end} events queued when the commands stopped"
        if measured.drain_seconds is None:
            return (
                f"{rate}; {queued}, still {measured.not_yet_applied} changes not yet "
                f"applied at the deadline{lag}: the platform did not drain the burst"
            )
        drained = f"drained in {measured.drain_seconds:.1f} s"
        if measured.drain_rate is not None:
            drained += f" ({measured.drain_rate:.0f} events/s)"
        lost = (
            f"{measured.events_lost} events lost"
            if measured.events_lost
            else "nothing lost"
        )
        return (
            f"{rate}; {queued}, {drained}{lag}; {lost}. While the backlog drained, "
            "a reader of the replica or the read models saw data that far behind "
            "the writes: under load eventual consistency is a queue, and its "
            "length is the staleness"
        )

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
        lag = ""
        if measured.lag_p99_ms is not None:
            lag = (
                f"; downstream lag p50 {measured.lag_p50_ms:.0f} ms, "
                f"p99 {measured.lag_p99_ms:.0f} ms"
            )
        return f"{measured.commands_per_second:.1f} commands/s{lag}"

"""Orders placed at a steady rate, whatever the answers: an open-loop load.

The clients keep arriving at the same pace, as shoppers do, instead of a
fixed number of clients each waiting for its last answer before it sends
the next. A slow answer therefore does not slow the arrivals: slowness shows
as latency, as failures, and as work piling up inside the order service
(placements in flight, each holding one of its worker threads), which is
what a slow dependency does to a service in production.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from lab.measurements import percentile

# Enough senders that a slow answer never delays the next arrival.
SENDERS = 32
# The client's own patience: far above any answer the order service gives.
CLIENT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Placement:
    status: int  # 0: no answer at all
    seconds: float
    detail: str = ""

    @property
    def timed_out_upstream(self) -> bool:
        """The order service answered 503 because its call to the customer
        service timed out (its answer names the timeout)."""
        return self.status == 503 and "Timeout" in self.detail


@dataclass(frozen=True)
class LoadOutcome:
    placements: list[Placement]
    # From the first placement sent to the last answer received.
    seconds: float

    @property
    def placed(self) -> int:
        return sum(1 for p in self.placements if p.status == 201)

    @property
    def failed(self) -> Counter[str]:
        return Counter(
            str(p.status) if p.status else "no answer"
            for p in self.placements
            if p.status != 201
        )

    @property
    def timeouts(self) -> int:
        return sum(1 for p in self.placements if p.timed_out_upstream)

    @property
    def commands_per_second(self) -> float:
        """Orders placed (201) per second: the throughput a shopper sees."""
        return self.placed / max(self.seconds, 1e-6)

    def latency_ms(self, fraction: float) -> float | None:
        return percentile(sorted(p.seconds * 1000 for p in self.placements), fraction)

    @property
    def in_flight(self) -> float:
        """Placements in progress on average (Little's law: the time they took,
        summed, over the time the load lasted): the order service's worker
        threads busy waiting, on average."""
        return sum(p.seconds for p in self.placements) / max(self.seconds, 1e-6)


def place_steadily(
    *,
    order_url: str,
    token: str,
    customer_ids: list[str],
    rate: float,
    seconds: float,
) -> LoadOutcome:
    """Place ``rate`` orders a second for ``seconds``, round the customers, and
    wait for every answer."""
    sessions = threading.local()

    def place(customer_id: str) -> Placement:
        session = getattr(sessions, "session", None)
        if session is None:
            session = sessions.session = requests.Session()
            session.headers["Authorization"] = f"Token {token}"
        body = {
            "customer_id": customer_id,
            "lines": [{"sku": "STEADY-1", "quantity": 1, "unit_price": "10.00"}],
        }
        started = time.monotonic()
        try:
            response = session.post(
                f"{order_url.rstrip('/')}/api/orders/place/",
                json=body,
                timeout=CLIENT_TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            return Placement(0, time.monotonic() - started, type(error).__name__)
        detail = ""
        if response.status_code != 201:
            detail = response.text[:500]
        return Placement(response.status_code, time.monotonic() - started, detail)

    count = max(1, round(rate * seconds))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        futures = []
        for index in range(count):
            due = started + index / rate
            time.sleep(max(0.0, due - time.monotonic()))
            futures.append(pool.submit(place, customer_ids[index % len(customer_ids)]))
        placements = [future.result() for future in futures]
    return LoadOutcome(placements=placements, seconds=time.monotonic() - started)

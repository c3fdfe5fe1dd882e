"""The price of eventual consistency, shown: act on a write at once.

Every other scenario waits for replication before it acts, which hides the
flaw approach 4 pays for its decoupling. This one does what an impatient
client does, a few times over:

1. register a customer and place an order for it at once: refused where the
   order service knows customers only from their events and the
   registration has not arrived yet (``CustomerDirectory.unknown_hint``);
2. rename the customer and read it back at once where a reader outside the
   customer service sees it: the query API's customer summary under
   ``cqrs_es``, the order's customer name (the order service's replica, its
   HTTP call, or the shared table) elsewhere. Stale if it still shows the
   old name (or version);
3. under ``cqrs_es``, the remedy: rename again and read the summary with
   ``?min_version=`` (the version the rename answered), so the query API
   waits for its row to reach the write, bounded, or answers 409 with
   ``Retry-After`` (``service_kit.api.staleness``): never a stale row.

Measured: refused placements and stale reads out of the trials, the
staleness window (ms from the write's answer until the reader saw it) and,
for the remedy, stale reads (0) and the time the query API waited.
"""

from __future__ import annotations

import time

import requests

from lab.context import ScenarioContext, wait_for
from lab.measurements import Measurements, percentile
from lab.scenarios.base import Scenario

TRIALS = 6
WINDOW_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.01

PLACEMENTS = "placements at once"
READS = "reads at once"
REMEDY = "reads with min_version"
REFUSED = "refused"
STALE = "stale"
OF = "of"
WINDOW_P50 = "window p50 ms"
WINDOW_MAX = "window max ms"
NOT_YET = "409"
WAITED_MAX = "waited max ms"


class ReadAfterWrite(Scenario):
    name = "read-after-write"
    title = "order for a customer just registered; read a change back at once"

    def run(self, ctx: ScenarioContext) -> None:
        reader = CustomerReader(ctx)
        ctx.notes.append(f"read back from {reader.where}")
        refused, placement_windows = 0, []
        stale, read_windows = 0, []
        remedy_stale, not_yet, remedy_waits = 0, 0, []
        for trial in range(TRIALS):
            customer = ctx.register(f"Eager Case {trial}")
            registered_at = time.monotonic()
            placed_before = len(ctx.orders)
            if ctx.place_order(customer["id"], sku=f"EAGER-{trial}") != 201:
                refused += 1
                if ctx.wait_replicated(customer["id"], WINDOW_TIMEOUT_SECONDS):
                    placement_windows.append(_ms_since(registered_at))
                ctx.place_order(customer["id"], sku=f"EAGER-{trial}")
            order_id = ctx.orders[-1] if len(ctx.orders) > placed_before else None
            renamed = reader.rename(customer, f"Eager Case {trial} Renamed")
            written_at = time.monotonic()
            if not reader.shows(renamed, order_id):
                stale += 1
                seen = wait_for(
                    lambda r=renamed, o=order_id: reader.shows(r, o),
                    timeout=WINDOW_TIMEOUT_SECONDS,
                )
                if seen is not None:
                    read_windows.append(_ms_since(written_at))
            if reader.reads_your_writes:
                again = reader.rename(renamed, f"Eager Case {trial} Final")
                started = time.monotonic()
                answer = reader.summary(again["id"], min_version=again["version"])
                if answer.status_code == 409:
                    not_yet += 1
                elif not reader.summary_shows(answer, again):
                    remedy_stale += 1
                else:
                    remedy_waits.append(_ms_since(started))
        ctx.figures[PLACEMENTS] = {
            REFUSED: refused,
            OF: TRIALS,
            WINDOW_MAX: _largest(placement_windows),
        }
        ctx.figures[READS] = {
            STALE: stale,
            OF: TRIALS,
            WINDOW_P50: _rounded(percentile(sorted(read_windows), 0.5)),
            WINDOW_MAX: _largest(read_windows),
        }
        if reader.reads_your_writes:
            ctx.figures[REMEDY] = {
                STALE: remedy_stale,
                NOT_YET: not_yet,
                OF: TRIALS,
                WAITED_MAX: _largest(remedy_waits),
            }

    def lesson(self, approach: str, measured: Measurements) -> str:
        placements = measured.figures.get(PLACEMENTS, {})
        reads = measured.figures.get(READS, {})
        refused, stale = placements.get(REFUSED, 0), reads.get(STALE, 0)
        if not refused and not stale:
            lesson = (
                f"every order placed at once and every read at once saw the write "
                f"({TRIALS} of {TRIALS}): the order service asks the customer "
                "service or its table, so there is nothing to wait for"
            )
        else:
            lesson = (
                f"{refused} of {TRIALS} orders placed right after the registration "
                f"were refused (the customer arrived up to "
                f"{placements.get(WINDOW_MAX) or 0:.0f} ms later) and {stale} of "
                f"{TRIALS} reads right after a rename were stale (window p50 "
                f"{reads.get(WINDOW_P50) or 0:.0f} ms, max "
                f"{reads.get(WINDOW_MAX) or 0:.0f} ms): the price of eventual "
                "consistency, paid by a client that acts on its write at once"
            )
        remedy = measured.figures.get(REMEDY)
        if remedy:
            lesson += (
                f". Read with ?min_version=, {remedy[STALE]} of {TRIALS} reads were "
                f"stale and {remedy[NOT_YET]} answered 409: the query API waited up "
                f"to {remedy.get(WAITED_MAX) or 0:.0f} ms for the projection instead "
                "(read your writes)"
            )
        return lesson


class CustomerReader:
    """Where a reader outside the customer service sees a customer, per approach."""

    def __init__(self, ctx: ScenarioContext) -> None:
        self.ctx = ctx
        self.session = ctx.client.session
        self.reads_your_writes = ctx.run.info.read_side
        self.where = (
            "the query API's customer summary"
            if self.reads_your_writes
            else "the order's customer name in the order service"
        )

    def rename(self, customer: dict, name: str) -> dict:
        response = self.session.post(
            f"{self.ctx.run.url('customer')}/api/customers/{customer['id']}/update/",
            # No expected_version: the customer's version also moves when the
            # credit saga answers the order placed a moment ago.
            json={"name": name},
            timeout=10,
        )
        response.raise_for_status()
        self.ctx.commands_ok += 1
        return response.json()

    def summary(self, customer_id: str, **params) -> requests.Response:
        return self.session.get(
            f"{self.ctx.run.url('customer')}/api/query/customers/{customer_id}/",
            params=params,
            timeout=10,
        )

    @staticmethod
    def summary_shows(response: requests.Response, customer: dict) -> bool:
        return (
            response.status_code == 200
            and response.json()["customer_version"] >= customer["version"]
        )

    def shows(self, customer: dict, order_id: str | None) -> bool:
        """Whether the reader sees ``customer`` as written (its name, version)."""
        if self.reads_your_writes:
            return self.summary_shows(self.summary(customer["id"]), customer)
        if order_id is None:
            return False
        response = self.session.get(
            f"{self.ctx.run.url('order')}/api/orders/{order_id}/", timeout=10
        )
        return response.ok and response.json()["customer_name"] == customer["name"]


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value)


def _largest(values: list[float]) -> float | None:
    return round(max(values)) if values else None

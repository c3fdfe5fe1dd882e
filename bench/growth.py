"""Figure 4a, growth: relay batch time as the published outbox history grows.

The relay's claim reads only unpublished rows through a partial index, so a
batch should cost the same whether 10 thousand or 1 million published rows sit
behind it. Measured with a ``NullPublisher`` (the database side only: the broker
side does not depend on the history). Ratio = batch time at N / at 10k.
"""

from __future__ import annotations

import statistics
import time

from bench.outbox_rows import clear_outbox, insert_pending, insert_published_history
from bench.report import Figure
from shared_events.outbox import relay_batch
from shared_events.transport import NullPublisher

BATCH = 100
RELAY_BATCH_GROWTH = Figure("4 growth, relay batch", unit=f"ms/batch of {BATCH}")


def _batch_times(batches: int) -> list[float]:
    times = []
    for _ in range(batches):
        insert_pending(BATCH)
        started = time.perf_counter()
        result = relay_batch(publisher=NullPublisher(), batch_size=BATCH)
        times.append((time.perf_counter() - started) * 1000)
        if result.published != BATCH:
            raise RuntimeError(f"relay published {result.published} of {BATCH}")
    return times


def _median_batch_ms(history: int, *, runs: int, batches: int) -> list[float]:
    clear_outbox()
    insert_published_history(history)
    _batch_times(2)  # warm up
    return [statistics.median(_batch_times(batches)) for _ in range(runs)]


def run(*, runs: int, batches: int, histories: list[int]) -> list[dict]:
    base, *larger = histories
    baseline = _median_batch_ms(base, runs=runs, batches=batches)
    rows = []
    for history in larger:
        rows.append(
            RELAY_BATCH_GROWTH.row(
                subject=(
                    f"batch at {history:,} published rows",
                    _median_batch_ms(history, runs=runs, batches=batches),
                ),
                baseline=(f"batch at {base:,} published rows", baseline),
                target=("le", 1.2) if history >= 1_000_000 else None,
                note=f"median of {batches} batches per run; NullPublisher",
            )
        )
    clear_outbox()
    return rows

"""Writers that start together: forked processes waiting on one barrier.

Every concurrent figure measures this way, in the project's venv and in the
``eventsourcing`` library's throwaway venv alike, so only the standard library
is used here. Each writer warms up on its own, then all start at once;
throughput is all operations / (last finish - first start).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StartLine:
    """Where the writers wait for one another, and where each reports its span."""

    barrier: Any
    spans: Any

    def run(self, work: Callable[[], object]) -> None:
        """Wait for every writer, run ``work``, report when it started and ended."""
        self.barrier.wait()
        started = time.perf_counter()
        work()
        self.spans.put((started, time.perf_counter()))


def race(
    writer: Callable[..., None], arguments: Sequence[tuple], *, name: str
) -> float:
    """Seconds from the first writer's start to the last writer's finish.

    Forks one process per tuple of ``arguments`` and calls ``writer(*args,
    start_line)`` in it; the writer warms up, then hands its timed work to
    ``start_line.run``.
    """
    context = multiprocessing.get_context("fork")
    start_line = StartLine(context.Barrier(len(arguments)), context.Queue())
    processes = [
        context.Process(target=writer, args=(*args, start_line)) for args in arguments
    ]
    for process in processes:
        process.start()
    spans = [start_line.spans.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a {name} writer failed ({process.exitcode})")
    return max(end for _, end in spans) - min(start for start, _ in spans)

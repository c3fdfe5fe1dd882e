"""Where the time of a slow path goes: ``python -m bench --profile write|rebuild``.

Runs the path under cProfile in the benchmark's Django process and prints the
top functions by cumulative and by own time to stderr.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys


def _write(count: int) -> None:
    # Each target imports only its own figure's module: bench.rebuild needs the
    # read models' apps, installed only under cqrs_es, and write runs without.
    from bench.write_path import WARM_UP, _register_loop

    _register_loop(WARM_UP, "profile-warm")
    profiler = cProfile.Profile()
    profiler.runcall(_register_loop, count, "profile")
    _print(profiler, f"customer_register x {count}")


def _rebuild(count: int) -> None:
    from bench.rebuild import _envelopes, _replay  # cqrs_es only: see _write

    envelopes = _envelopes(count)
    _replay(envelopes[:20])
    profiler = cProfile.Profile()
    profiler.runcall(_replay, envelopes)
    _print(profiler, f"apply_event x {count}")


def _print(profiler: cProfile.Profile, title: str) -> None:
    for order in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(30)
        print(f"=== {title}, by {order} ===\n{text.getvalue()}", file=sys.stderr)


def run(*, target: str, count: int) -> list[dict]:
    {"write": _write, "rebuild": _rebuild}[target](count)
    return []

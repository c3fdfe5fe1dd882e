"""Figure 10: what tracing and metrics cost, on the write path and end to end.

Subject: a whole ``cqrs_es`` platform with tracing on, every process
exporting its spans to the run's span receiver, which writes them into
PostgreSQL on the same two cores: once with every request traced, once with
one in ten (``OTEL_TRACES_SAMPLER_ARG=0.1``, what a busy production keeps),
and once with one in ten and no span per SQL statement
(``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=psycopg2``).
Metrics are counted in all of them, and alone in one more platform.
Baseline: the same platform with neither (``OTEL_SDK_DISABLED=true``,
``METRICS_ENABLED=false``). The platforms run
one after the other, never side by side (two platforms on two cores would
measure each other); each run of one is paired with the same run of the
baseline.

Each run sends the same ``commands`` registrations to the customer
service from ``CLIENTS`` clients as fast as it answers, then waits until
the order service's consumer has applied them all (its replica):

- write path: commands per second while they were sent;
- end to end: commands per second from the first sent to the last applied,
  the pipeline's throughput (relay, broker, consumer included).

Target: each ratio (on / off) at least 0.9.
"""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.report import Figure
from shared_events.configuration import all_database_names
from stack.connections import fetch_value
from stack.platform_run import running_platform
from stack.postgres import drop_databases
from stack.span_receiver import TELEMETRY_DATABASE

OVERHEAD = Figure("10 tracing and metrics overhead", unit="commands/s")
# The platforms' names within the run: databases bench_<run>_obs_*.
PREFIX = "obs"
APPROACH = "cqrs_es"
CLIENTS = 4
DRAIN_TIMEOUT = 120.0
TARGET = ("ge", 0.9)
# Tracing off, then on: for every request, for one in ten, and for one in
# ten without a span per SQL statement (psycopg2's, the most numerous).
# Spans leave each process in batches every 5 s, the SDK's default (the
# lab's and the tests' platforms send them every 0.2 s, to read a trace at
# once).
EXPORT = {"OTEL_BSP_SCHEDULE_DELAY": "5000"}
SETTINGS = {
    "off": {"OTEL_SDK_DISABLED": "true", "METRICS_ENABLED": "false"},
    "metrics only": {"OTEL_SDK_DISABLED": "true"},
    "metrics and every request traced": EXPORT,
    "metrics and one in ten traced": {**EXPORT, "OTEL_TRACES_SAMPLER_ARG": "0.1"},
    "metrics and one in ten traced, no statement spans": {
        **EXPORT,
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "psycopg2",
    },
}


def run(bench, *, runs: int, commands: int, log) -> list[dict]:
    measured: dict[str, list[tuple[float, float]]] = {}
    prefix = bench.platform_prefix(PREFIX)
    try:
        for name, settings in SETTINGS.items():
            with running_platform(
                approach=APPROACH,
                server_url=bench.server_url,
                prefix=prefix,
                broker_proxy=False,
                tracing="traced" in name,
                extra_env=settings,
            ) as platform:
                log(f"tracing and metrics overhead: platform up, {name}")
                # A first, unmeasured run: the first platform of a run would
                # otherwise pay for the machine's warming up alone.
                _one_run(platform, commands=max(commands // 4, 1), log=log)
                measured[name] = [
                    _one_run(platform, commands=commands, log=log) for _ in range(runs)
                ]
    finally:
        drop_databases(
            server_url=bench.server_url,
            names=[*all_database_names(prefix), prefix + TELEMETRY_DATABASE],
        )
    off = measured["off"]
    rows = []
    for name in list(SETTINGS)[1:]:
        traced = measured[name]
        rows += [
            OVERHEAD.row(
                subject=(f"write path, {name}", [w for w, _ in traced]),
                baseline=("write path, neither", [w for w, _ in off]),
                target=TARGET,
                note=f"{commands} registrations from {CLIENTS} clients",
            ),
            OVERHEAD.row(
                subject=(f"end to end, {name}", [e for _, e in traced]),
                baseline=("end to end, neither", [e for _, e in off]),
                target=TARGET,
                note="from the first command sent to the consumer's last apply",
            ),
        ]
    return rows


def _one_run(platform, *, commands: int, log) -> tuple[float, float]:
    """(commands/s on the write path, commands/s end to end) of one run."""
    url = f"{platform.url('customer')}/api/customers/register/"
    before = _applied(platform)
    numbers = itertools.count()
    lock = threading.Lock()

    def client() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {platform.token}"
        while True:
            with lock:
                number = next(numbers)
            if number >= commands:
                return
            response = session.post(
                url,
                json={
                    "name": f"Bench {number}",
                    "email": f"bench-{time.monotonic_ns()}-{number}@example.com",
                    "address": "1 Bench Road",
                },
                timeout=10,
            )
            response.raise_for_status()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(lambda _: client(), range(CLIENTS)))
    written = time.monotonic() - started
    wait_until = time.monotonic() + DRAIN_TIMEOUT
    while _applied(platform) - before < commands:
        if time.monotonic() > wait_until:
            raise RuntimeError(
                f"only {_applied(platform) - before} of {commands} applied after "
                f"{DRAIN_TIMEOUT:.0f} s"
            )
        time.sleep(0.05)
    drained = time.monotonic() - started
    log(
        f"tracing overhead: {commands} commands sent in {written:.1f} s, all "
        f"applied after {drained:.1f} s"
    )
    return commands / written, commands / drained


def _applied(platform) -> int:
    return fetch_value(
        platform.database_url("order"),
        "SELECT count(*) FROM event_processed WHERE event_type = %s",
        ["CustomerRegistered"],
    )

"""Commit-to-projection lag, measured from the data the consumers leave behind.

Every consumer writes a ``ProcessedEvent`` row in the same transaction as
the effect of an event. That row carries the event's ``occurred_at`` (when
the producer recorded it, just before its commit) and its own
``processed_at`` (when the consumer applied it), so ``processed_at -
occurred_at`` is how long the event took to become visible on the other
side: the outbox relay, the broker and the consumer together. No clock is
started by a test harness; the numbers are the platform's own.

Where to look depends on the approach: the order service's write database
(its customer replica) in approaches 3 and 4, the read databases (the read
models) in approach 5. The clocks of the two services' hosts must agree for
the numbers to mean anything; on one machine they do.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import psycopg2

from observe.tables import PROCESSED_EVENT_TABLE
from shared_events.approaches import Approach, approach_info
from shared_events.configuration import (
    database_url,
    read_database_url,
)

DATABASE_CHOICES = ("customer", "order", "customer_read", "order_read")
PERCENTILES = (50, 95, 99)


class LagError(RuntimeError):
    """The lag could not be measured; the message says why."""


def percentile(ordered: Sequence[float], percent: float) -> float:
    """The percentile by linear interpolation (PostgreSQL's ``percentile_cont``).

    ``ordered`` must be sorted and not empty.
    """
    position = (len(ordered) - 1) * percent / 100
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


@dataclass
class LagStats:
    count: int
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None

    @classmethod
    def of(cls, lags_ms: Sequence[float]) -> LagStats:
        if not lags_ms:
            return cls(count=0)
        ordered = sorted(lags_ms)
        p50, p95, p99 = (percentile(ordered, p) for p in PERCENTILES)
        return cls(
            count=len(ordered), p50_ms=p50, p95_ms=p95, p99_ms=p99, max_ms=ordered[-1]
        )


@dataclass
class ConsumerLag:
    database: str
    consumer: str
    stats: LagStats


@dataclass
class LagReport:
    window: str
    consumers: list[ConsumerLag] = field(default_factory=list)
    overall: LagStats = field(default_factory=lambda: LagStats(count=0))

    def to_dict(self) -> dict:
        return asdict(self)


def _lags(
    url: str, *, since: float | None, last: int | None
) -> list[tuple[str, float]]:
    """(consumer, lag in ms) of the chosen events in one database."""
    lag = "EXTRACT(EPOCH FROM processed_at - occurred_at)::float * 1000"
    if last is not None:
        statement = (
            f"SELECT consumer, lag FROM (SELECT consumer, {lag} AS lag, row_number() "
            "OVER (PARTITION BY consumer ORDER BY processed_at DESC, id DESC) AS n "
            f"FROM {PROCESSED_EVENT_TABLE}) recent WHERE n <= %s"
        )
        params: list = [last]
    else:
        statement = (
            f"SELECT consumer, {lag} FROM {PROCESSED_EVENT_TABLE} "
            "WHERE processed_at >= now() - make_interval(secs => %s)"
        )
        params = [since]
    try:
        connection = psycopg2.connect(url, connect_timeout=5)
    except psycopg2.OperationalError as error:
        raise LagError(f"cannot reach the database: {error}".strip()) from None
    try:
        connection.set_session(readonly=True)
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall()
    except psycopg2.errors.UndefinedTable:
        raise LagError(
            f"no {PROCESSED_EVENT_TABLE} table: has this database been migrated?"
        ) from None
    finally:
        connection.close()


def measure_lag(
    database_urls: Mapping[str, str],
    since: float | None = 300.0,
    *,
    last: int | None = None,
) -> LagReport:
    """Lag percentiles per consumer and overall.

    ``since``: events processed in the last SECONDS; ``last``: instead, the
    last N events of each consumer, however old.
    """
    window = (
        f"the last {last} events of each consumer"
        if last is not None
        else f"events processed in the last {since:g} s"
    )
    report = LagReport(window=window)
    everything: list[float] = []
    for name, url in database_urls.items():
        by_consumer: dict[str, list[float]] = {}
        for consumer, lag_ms in _lags(url, since=since, last=last):
            by_consumer.setdefault(consumer, []).append(lag_ms)
        for consumer, lags in sorted(by_consumer.items()):
            report.consumers.append(ConsumerLag(name, consumer, LagStats.of(lags)))
            everything += lags
    report.overall = LagStats.of(everything)
    return report


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render_lag(report: LagReport, *, as_json: bool = False) -> str:
    if as_json:
        return json.dumps(report.to_dict(), indent=2)
    header = (
        f"  {'database':<14} {'consumer':<14} {'events':>7} {'p50 ms':>9} "
        f"{'p95 ms':>9} {'p99 ms':>9} {'max ms':>9}"
    )
    lines = [f"Commit-to-projection lag, {report.window}", header]
    rows = [(c.database, c.consumer, c.stats) for c in report.consumers]
    rows.append(("all", "", report.overall))
    for database, consumer, stats in rows:
        lines.append(
            f"  {database:<14} {consumer:<14} {stats.count:>7} "
            f"{_ms(stats.p50_ms):>9} {_ms(stats.p95_ms):>9} {_ms(stats.p99_ms):>9} "
            f"{_ms(stats.max_ms):>9}"
        )
    if not report.overall.count:
        lines.append("  (no events processed in this window)")
    return "\n".join(lines)


def lag_databases(
    *, env, approach: Approach | str, names: Sequence[str] = ()
) -> dict[str, str]:
    """The databases whose consumers apply events, by name; ``names`` picks some.

    By default: the order service's write database (the customer replica)
    in approaches 3 and 4, both read databases in approach 5.
    """
    info = approach_info(approach)
    if not names:
        if info.read_side:
            names = ("customer_read", "order_read")
        elif info.keeps_replica:
            names = ("order",)
        else:
            return {}
    urls = {}
    for name in names:
        service, _, side = name.partition("_")
        if side:
            if not info.read_side:
                raise LagError(
                    f"{info.approach.value} has no read databases; they come with "
                    "approach 5 (cqrs_es)"
                )
            urls[name] = read_database_url(env=env, service=service)
        else:
            urls[name] = database_url(env=env, service=service, approach=approach)
    return urls

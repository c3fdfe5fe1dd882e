"""What a round committed and what reached every copy, read from the databases.

The checker is Jepsen's queue checker adapted to the outbox: the *history*
is the two write-side event stores (what was committed), the *observations*
are every consumer's ``event_processed`` rows (what was applied, in which
order) and the effect tables, which ``observe.audit`` compares with a fold of
the event stores. It reads the databases directly with psycopg2 and shares
no code with the consumers it judges.

The client's own history comes first: every command a round sent, tagged
with a correlation id its event carries, and what the client heard back.
As in Jepsen, a command whose answer never came (the database went away
mid-request) is *indeterminate*: it may or may not have committed.

Under ``EVENT_STORE=dynamodb`` the history is the DynamoDB event tables
(``observe.event_tables``: one item per commit), read on the moto server
itself; PostgreSQL's ``event_store`` is then empty.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from observe.audit import AuditDatabases, audit_consistency
from observe.audit.fold import (
    APPROVED,
    PENDING,
    WriteSideFold,
    fold_event_stores,
    fold_event_tables,
)
from observe.event_tables import EventTables
from observe.tables import (
    AGGREGATE_CURSOR_TABLE,
    EVENT_STORE_TABLE,
    PROCESSED_EVENT_TABLE,
)
from stack.connections import fetch_rows
from stack.platform_run import PlatformRun

# consumer name -> (service whose database holds it, read side?, producers)
WRITE_CONSUMERS = {
    "order-inbox": ("order", False, ("customer",)),
    "customer-inbox": ("customer", False, ("order",)),
}
READ_CONSUMERS = {
    "customer-read-inbox": ("customer", True, ("customer", "order")),
    "order-read-inbox": ("order", True, ("customer", "order")),
}
PRODUCER_OF = {"Customer": "customer", "Order": "order"}


@dataclass(frozen=True)
class Committed:
    event_id: str
    producer: str
    aggregate_id: str
    aggregate_version: int
    correlation_id: str | None = None
    # The event that caused this one, when a consumer's handler recorded it
    # (the OrderCancelled of a CustomerDeleted): it carries its cause's
    # correlation id, not a command's of its own.
    causation_id: str | None = None


# What a client learned of its command (Jepsen's :ok, :fail and :info).
ACKNOWLEDGED = "ok"  # a 2xx answer: the command committed
REFUSED = "fail"  # a 4xx answer: refused (a refusal may be recorded: OrderRejected)
INDETERMINATE = "info"  # a 5xx, a connection error, a timeout: unknown
# A 503 that says nothing changed: the event store (DynamoDB) was throttled
# and did not take the commit. A failure, like a refusal, but one that must
# not have recorded anything at all (a refusal may record OrderRejected).
NOT_APPLIED = "fail-not-applied"


@dataclass(frozen=True)
class Command:
    """One HTTP command of a round: its correlation id and what its client heard."""

    correlation_id: str
    name: str
    outcome: str


@dataclass(frozen=True)
class Applied:
    consumer: str
    event_id: str
    aggregate_id: str
    aggregate_version: int
    sequence: tuple  # (processed_at, id): the order the consumer applied in


@dataclass
class Verdict:
    committed: int = 0
    applied: int = 0
    lost: list[tuple[str, str]] = field(default_factory=list)
    unexpected: list[tuple[str, str]] = field(default_factory=list)
    out_of_order: list[tuple[str, str]] = field(default_factory=list)
    duplicated_effects: list[str] = field(default_factory=list)
    effect_drift: list[str] = field(default_factory=list)
    wire_duplicates: int = 0
    indeterminate: int = 0
    indeterminate_committed: int = 0
    not_applied: int = 0  # 503s that changed nothing (a throttled commit)
    # The credit saga's invariants broken (``saga_violations``).
    saga: list[str] = field(default_factory=list)
    # How the orders ended, by status (where the saga runs).
    order_statuses: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.unexpected
            or self.out_of_order
            or self.duplicated_effects
            or self.effect_drift
            or self.saga
        )

    def line(self) -> str:
        return (
            f"events {self.committed} applied {self.applied} lost {len(self.lost)} "
            f"duplicated-effects {len(self.duplicated_effects)} unexpected "
            f"{len(self.unexpected)} out-of-order {len(self.out_of_order)} "
            f"effect-drift {len(self.effect_drift)} wire-duplicates "
            f"{self.wire_duplicates} indeterminate {self.indeterminate} "
            f"(committed {self.indeterminate_committed}) throttled-not-applied "
            f"{self.not_applied} saga-violations {len(self.saga)}"
            + "".join(
                f" {status} {count}"
                for status, count in sorted(self.order_statuses.items())
            )
        )


def check(
    committed: Iterable[Committed],
    applied: Iterable[Applied],
    subscriptions: Mapping[str, Iterable[str]],
    commands: Iterable[Command] = (),
) -> Verdict:
    """Compare the committed history with every consumer's applications.

    ``subscriptions``: consumer name -> the producers it receives. Every
    committed event of a producer must be applied exactly once by each of
    its subscribers, and each aggregate's events in version order.
    ``commands``: what the clients sent, checked against the event stores
    first (``check_commands``).
    """
    committed = list(committed)
    by_id = {event.event_id: event for event in committed}
    verdict = Verdict(committed=len(committed))
    check_commands(verdict, committed, commands)
    per_consumer: dict[str, list[Applied]] = defaultdict(list)
    for row in applied:
        per_consumer[row.consumer].append(row)
        verdict.applied += 1
    for consumer, producers in subscriptions.items():
        producers = set(producers)
        rows = per_consumer.get(consumer, [])
        seen = Counter(row.event_id for row in rows)
        for event in committed:
            if event.producer in producers and not seen[event.event_id]:
                verdict.lost.append((consumer, event.event_id))
        for event_id, count in seen.items():
            if count > 1:
                verdict.duplicated_effects.append(
                    f"{consumer}: {event_id} applied {count} times"
                )
        for row in rows:
            source = by_id.get(row.event_id)
            if (
                source is None
                or source.producer not in producers
                or source.aggregate_id != row.aggregate_id
                or source.aggregate_version != row.aggregate_version
            ):
                verdict.unexpected.append((consumer, row.event_id))
        streams: dict[str, list[Applied]] = defaultdict(list)
        for row in sorted(rows, key=lambda r: r.sequence):
            streams[row.aggregate_id].append(row)
        for aggregate_id, stream in streams.items():
            versions = [row.aggregate_version for row in stream]
            if versions != sorted(versions):
                verdict.out_of_order.append((consumer, aggregate_id))
    for consumer in per_consumer.keys() - subscriptions.keys():
        verdict.unexpected += [(consumer, r.event_id) for r in per_consumer[consumer]]
    return verdict


def check_commands(
    verdict: Verdict, committed: list[Committed], commands: Iterable[Command]
) -> None:
    """The clients' history against the event stores.

    Each command of a round records at most one event, tagged with the
    command's correlation id. Events a consumer records, such as the order
    cancelled for a deleted customer, carry their cause's correlation id and
    name it as causation: they are the cause's consequences, not the
    command's own records, and are not counted here. An
    acknowledged command must have recorded its event: if not, it was lost
    before any consumer could see it. An indeterminate command may have
    recorded it or not; neither kind may have recorded it twice. Once in an
    event store, an event is committed whatever its client heard, and the
    delivery checks require it at every subscriber, exactly once, in order.
    """
    recorded = Counter(
        event.correlation_id for event in committed if event.causation_id is None
    )
    for command in commands:
        count = recorded[command.correlation_id]
        verdict.not_applied += command.outcome == NOT_APPLIED
        if command.outcome == NOT_APPLIED and count:
            verdict.unexpected.append(
                (
                    "event-store",
                    f"{command.name} {command.correlation_id} answered 503 "
                    f"(nothing changed) but recorded {count} event(s)",
                )
            )
        if command.outcome == INDETERMINATE:
            verdict.indeterminate += 1
            verdict.indeterminate_committed += min(count, 1)
        if count > 1:
            verdict.duplicated_effects.append(
                f"event-store: {command.name} {command.correlation_id} "
                f"recorded {count} times"
            )
        elif count == 0 and command.outcome == ACKNOWLEDGED:
            verdict.lost.append(
                ("event-store", f"{command.name} {command.correlation_id}")
            )


def subscriptions(run: PlatformRun) -> dict[str, tuple[str, ...]]:
    consumers = dict(WRITE_CONSUMERS)
    if run.info.read_side:
        consumers.update(READ_CONSUMERS)
    return {name: spec[2] for name, spec in consumers.items()}


def _query(url: str, sql: str, params=()) -> list[tuple]:
    return fetch_rows(url, sql, params, connect_timeout=5)


def read_committed(run: PlatformRun) -> list[Committed]:
    """Every event the write sides committed: PostgreSQL's event stores, or the
    DynamoDB event tables of the services that keep their events there."""
    events = []
    tables = EventTables.of_platform(run)
    in_dynamodb = set(tables.names) if tables is not None else set()
    for service in sorted(in_dynamodb):
        events += [
            Committed(
                str(envelope.event_id),
                PRODUCER_OF[envelope.aggregate_type],
                str(envelope.aggregate_id),
                envelope.aggregate_version,
                str(envelope.correlation_id) if envelope.correlation_id else None,
                str(envelope.causation_id) if envelope.causation_id else None,
            )
            for commit in tables.commits(service)
            for envelope in commit.envelopes
        ]
    for service in ("customer", "order"):
        if service in in_dynamodb:
            continue
        rows = _query(
            run.database_url(service),
            "SELECT event_id::text, aggregate_type, aggregate_id::text, "
            "aggregate_version, metadata->>'correlation_id', "
            f"metadata->>'causation_id' FROM {EVENT_STORE_TABLE}",
        )
        events += [
            Committed(
                event_id, PRODUCER_OF[kind], aggregate_id, version, correlation, cause
            )
            for event_id, kind, aggregate_id, version, correlation, cause in rows
        ]
    return events


def read_applied(run: PlatformRun) -> list[Applied]:
    consumers = dict(WRITE_CONSUMERS)
    if run.info.read_side:
        consumers.update(READ_CONSUMERS)
    urls: set[str] = set()
    for service, read, _ in consumers.values():
        urls.add(run.read_database_url(service) if read else run.database_url(service))
    applied = []
    for url in sorted(urls):
        rows = _query(
            url,
            "SELECT consumer, event_id::text, aggregate_id::text, "
            f"aggregate_version, processed_at, id FROM {PROCESSED_EVENT_TABLE}",
        )
        applied += [
            Applied(consumer, event_id, aggregate_id, version, (at, row_id))
            for consumer, event_id, aggregate_id, version, at, row_id in rows
        ]
    return applied


def cursor_mismatches(run: PlatformRun) -> list[str]:
    """A cursor ahead of what its consumer recorded: an effect applied without
    its processed-event record (or twice)."""
    consumers = dict(WRITE_CONSUMERS)
    if run.info.read_side:
        consumers.update(READ_CONSUMERS)
    problems = []
    for name, (service, read, _) in consumers.items():
        url = run.read_database_url(service) if read else run.database_url(service)
        rows = _query(
            url,
            "SELECT c.aggregate_id::text, c.version, "
            "coalesce(max(p.aggregate_version), 0), count(p.id) "
            f"FROM {AGGREGATE_CURSOR_TABLE} c LEFT JOIN {PROCESSED_EVENT_TABLE} p "
            "ON p.consumer = c.consumer AND p.aggregate_id = c.aggregate_id "
            "WHERE c.consumer = %s GROUP BY c.aggregate_id, c.version",
            [name],
        )
        for aggregate_id, version, highest, count in rows:
            if not version == highest == count:
                problems.append(
                    f"{name} {aggregate_id}: cursor v{version}, highest applied "
                    f"v{highest}, {count} records"
                )
    return problems


def audit(run: PlatformRun):
    return audit_consistency(run.approach, AuditDatabases.of_platform(run))


def judge(run: PlatformRun, commands: Iterable[Command] = ()) -> Verdict:
    """The whole check after a round: commands, delivery history, cursors, effects."""
    verdict = check(
        read_committed(run), read_applied(run), subscriptions(run), commands
    )
    verdict.duplicated_effects += cursor_mismatches(run)
    report = audit(run)
    for difference in report.differences:
        text = difference.describe()
        if difference.kind == "extra" or _counted_too_often(difference):
            verdict.duplicated_effects.append(text)
        else:
            verdict.effect_drift.append(text)
    verdict.effect_drift += [
        f"orphan order {o.order_id} (customer {o.customer_id} gone)"
        for o in report.orphan_orders
    ]
    if run.info.event_sourced("order"):
        fold = write_side_fold(run)
        limit = Decimal(run.env.get("CREDIT_LIMIT", "1e6"))
        verdict.saga = saga_violations(fold, limit=limit)
        verdict.order_statuses = dict(
            Counter(order.status for order in fold.orders.values())
        )
    return verdict


def write_side_fold(run: PlatformRun) -> WriteSideFold:
    databases = AuditDatabases.of_platform(run)
    if databases.event_tables is not None:
        return fold_event_tables(databases.event_tables)
    return fold_event_stores([databases.customer, databases.order])


def saga_violations(fold: WriteSideFold, *, limit: Decimal) -> list[str]:
    """The credit saga's invariants, once the platform is quiet:

    * no order is left PENDING (every placement was answered);
    * a live customer holds exactly the credit of their approved, still
      open orders (a reservation neither leaked nor lost);
    * no customer ever held more than the limit, at any point of their
      history.
    """
    violations = [
        f"order {order.order_id} still pending"
        for order in fold.orders.values()
        if order.status == PENDING
    ]
    approved: dict[str, Decimal] = defaultdict(Decimal)
    for order in fold.orders.values():
        if order.status == APPROVED:
            approved[order.customer_id] += order.total
    for customer_id, customer in fold.customers.items():
        if customer.most_reserved > limit:
            violations.append(
                f"customer {customer_id} held {customer.most_reserved} of a "
                f"{limit} limit"
            )
        if not customer.deleted and customer.reserved != approved[customer_id]:
            violations.append(
                f"customer {customer_id} holds {customer.reserved} for approved "
                f"orders worth {approved[customer_id]}"
            )
    return violations


COUNTED_COLUMNS = (
    "version",
    "customer_version",
    "order_version",
    "order_count",
    "open_order_count",
    "lifetime_value",
    "total",
)


def _counted_too_often(difference) -> bool:
    """A counter or version above what the fold says: an effect applied twice."""
    for name, values in difference.fields.items():
        if name in COUNTED_COLUMNS:
            expected, actual = values.get("expected"), values.get("actual")
            try:
                if actual is not None and expected is not None and actual > expected:
                    return True
            except TypeError:
                continue
    return False

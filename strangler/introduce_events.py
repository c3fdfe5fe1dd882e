"""Step 2 -> 4, "introduce events": db_per_service to event_sourcing, with the data.

The databases stay the same; what changes is where the truth lives. Under
db_per_service it is the state tables; under event_sourcing it is each
service's event store, and the state tables become a cache of its fold. So
every customer and order that exists gets an opening event, a snapshot
("CustomerImported", "OrderImported") at version 1 of its history.

The stages, each recorded when done (``strangler.state``):

1. ``prepare``: the staging table for the snapshots beside each state table.
2. ``copy``: a snapshot of every customer and order staged, in key order a
   batch at a time, while the services still take writes.
3. ``freeze``: the event guard: a write to a customer, order or order line
   passes only if a stored event stands behind it (``write_freeze``). The
   services still on db_per_service are refused (503); the cut-over
   window opens.
4. ``fill``: compare and fill the snapshots, so what changed during the
   copy is right too; orphan orders found.
5. ``append``: the opening events into each service's event store (insert if
   missing), the orphans closed by the policy below, the state rows'
   versions, the order service's replica and both consumers' cursors set
   to where the events leave them.
6. ``verify``: exactly one opening event per row, the fold of the store
   equal to every row, the replica complete, the auditor's counts.
7. ``switch``: ``ARCHITECTURE_APPROACH=event_sourcing``.

Not through the outbox: the opening events are written straight into the
event store, without outbox rows, so they are not re-broadcast. The
consumers' copies (the replica, the cursors) are filled by this step from
the same snapshots and verified before the switch; a re-broadcast would
leave them incomplete at the switch (no relay runs under db_per_service),
refuse new orders for imported customers until thousands of events had
drained, and flood every subscriber at the restart with events that tell
nothing new. The read models of approach 5 are rebuilt from the store by
the next step, not fed by the broker.

The orphan policy: an open order whose customer no longer exists (left by
db_per_service's deletes) is imported as it was, then closed at once with
``OrderCancelled`` (reason ``customer_missing_at_import``), the same
compensation the event-sourced platform applies when a customer is deleted.
Its ids are printed and counted in the plan. A closed order of a missing
customer holds nothing and is imported as it is.
"""

from __future__ import annotations

import psycopg2

from observe.audit import AuditDatabases, audit_consistency
from observe.audit.fold import fold_event_stores
from observe.tables import (
    CUSTOMER_TABLE,
    EVENT_STORE_TABLE,
    ORDER_LINE_TABLE,
    ORDER_TABLE,
    REPLICA_TABLE,
)
from shared_events.approaches import Approach
from stack.connections import fetch_rows, fetch_value, open_connection
from strangler.catalog import database_name, has_table, row_count
from strangler.context import MigrationContext, Progress
from strangler.opening_events import (
    OPEN_STATUSES,
    STAGING_TABLE,
    Databases,
    append_opening_events,
    create_staging,
    order_snapshots,
    orphan_ids,
    settle_copies,
    take_snapshots,
)
from strangler.plan import Plan, PlannedStage
from strangler.state import StageRecord
from strangler.step import Step, StepRefused
from strangler.verification import Verification
from strangler.write_freeze import guard_with_events, remove_event_guard

STAGES = {
    "prepare": "a staging table for the snapshots beside each state table",
    "copy": "stage a snapshot of every customer and order while writes go on",
    "freeze": "refuse writes no event stands behind (the cut-over window opens)",
    "fill": "compare and fill the snapshots; find the orphan orders",
    "append": "opening events into the event stores, orphans cancelled, the "
    "replica and the consumers' cursors set",
    "verify": "one opening event per row, fold equal to row, replica, auditor",
    "switch": "write ARCHITECTURE_APPROACH=event_sourcing (approach set)",
}
# The tables the guard protects, per service, each with the column naming
# its parent aggregate ("" for an aggregate's own state table).
GUARDED = {
    "customer": {CUSTOMER_TABLE: ""},
    "order": {ORDER_TABLE: "", ORDER_LINE_TABLE: "order_id"},
}
REQUIRED = {
    "customer": (CUSTOMER_TABLE, EVENT_STORE_TABLE),
    "order": (ORDER_TABLE, ORDER_LINE_TABLE, REPLICA_TABLE, EVENT_STORE_TABLE),
}
OPENING = {"customer": "CustomerImported", "order": "OrderImported"}
STATE_TABLES = {"customer": CUSTOMER_TABLE, "order": ORDER_TABLE}


class IntroduceEvents(Step):
    name = "introduce events"
    source = Approach.DB_PER_SERVICE
    target = Approach.EVENT_SOURCING
    way_back = (
        "Before the services write under event_sourcing: 'python manage.py "
        "approach set db_per_service'; in the customer service's database "
        "'DROP TRIGGER strangler_event_guard ON customers_customer; DROP TRIGGER "
        "strangler_event_guard_truncate ON customers_customer;', in the order "
        "service's the same ON orders_order and ON orders_orderline; restart "
        "the services. The state tables stay the truth of db_per_service (their "
        "versions now start again at 1, orphan orders stay cancelled). To move "
        "again later, first empty event_store, event_aggregate_cursor, "
        "orders_customer_replica and strangler_opening_event, and delete this "
        "step's rows ('db_per_service->event_sourcing') from "
        "strangler_migration_stage. After the services wrote under "
        "event_sourcing, going back keeps their writes (the state tables are "
        "kept current) but not the saga's pending answers."
    )

    # --- where things are -------------------------------------------------------

    def _databases(self, ctx: MigrationContext) -> Databases:
        return Databases(
            customer=ctx.database_url(service="customer", approach=self.target),
            order=ctx.database_url(service="order", approach=self.target),
        )

    def _url(self, ctx: MigrationContext, service: str) -> str:
        return getattr(self._databases(ctx), service)

    def _record(self, ctx: MigrationContext) -> StageRecord:
        return StageRecord(
            url=self._databases(ctx).customer, step="db_per_service->event_sourcing"
        )

    def _done(self, ctx: MigrationContext) -> dict:
        try:
            return self._record(ctx).done()
        except psycopg2.OperationalError:
            return {}

    def finished(self, ctx: MigrationContext) -> bool:
        return "switch" in self._done(ctx)

    # --- refusals ---------------------------------------------------------------

    def _check_databases(self, ctx: MigrationContext) -> None:
        store = ctx.env.str("EVENT_STORE", default="postgres")
        if store != "postgres":
            raise StepRefused(
                f"EVENT_STORE={store}: this step writes the opening events into "
                "the PostgreSQL event store only; move with EVENT_STORE=postgres"
            )
        for service, tables in REQUIRED.items():
            url = self._url(ctx, service)
            try:
                missing = [table for table in tables if not has_table(url, table)]
            except psycopg2.OperationalError as error:
                raise StepRefused(
                    f"cannot reach the {service} service's database "
                    f"{database_name(url)}: {str(error).strip()}"
                ) from None
            if missing:
                raise StepRefused(
                    f"the {service} service's database {database_name(url)} has "
                    f"no {', '.join(missing)}: it holds no db_per_service platform "
                    "to move (python manage.py migrate)"
                )

    def _check_store_empty(self, ctx: MigrationContext) -> None:
        """An event store holding events this step did not write is not ours."""
        for service in ("customer", "order"):
            url = self._url(ctx, service)
            events = row_count(url, EVENT_STORE_TABLE)
            if events:
                raise StepRefused(
                    f"the {service} service's event store ({database_name(url)}) "
                    f"already holds {events} events this step did not write; "
                    "empty event_store there (or restore the database) and run again"
                )

    def _check_not_gone_back(self, ctx: MigrationContext, done: dict) -> None:
        if "switch" in done and ctx.current == self.source:
            raise StepRefused(
                "this platform went back to db_per_service after a finished move; "
                "its event stores hold that older history. Follow the way back's "
                "last step (empty event_store, event_aggregate_cursor, "
                "orders_customer_replica and strangler_opening_event, delete the "
                "step's rows from strangler_migration_stage) and run again"
            )

    # --- the plan ---------------------------------------------------------------

    def plan(self, ctx: MigrationContext) -> Plan:
        self._check_databases(ctx)
        done = self._done(ctx)
        self._check_not_gone_back(ctx, done)
        if "copy_started" not in done:
            self._check_store_empty(ctx)
        databases = self._databases(ctx)
        plan = Plan(step=self.name, source=self.source, target=self.target)
        plan.stages = [
            PlannedStage(name=name, does=does, done=name in done)
            for name, does in STAGES.items()
        ]
        orphans = self._orphans_now(databases)
        plan.row_counts = {
            f"{CUSTOMER_TABLE} -> CustomerImported": row_count(
                databases.customer, CUSTOMER_TABLE
            ),
            f"{ORDER_TABLE} -> OrderImported": row_count(databases.order, ORDER_TABLE),
            "orphan orders -> OrderImported + OrderCancelled "
            "(customer_missing_at_import)": len(orphans),
        }
        plan.notes = [
            "orphan orders now: " + (", ".join(orphans) or "none"),
            "opening events are not published (no outbox row): the replica and "
            "the consumers' cursors are filled by this step and verified",
            "writes no event stands behind are refused from 'freeze' on (HTTP 503): "
            "the services on db_per_service until they restart on event_sourcing",
            f"the way back: {self.way_back}",
        ]
        return plan

    def _orphans_now(self, databases: Databases) -> list[str]:
        open_ids = [
            key
            for (key,) in fetch_rows(
                databases.order,
                f"SELECT id::text FROM {ORDER_TABLE} WHERE status = ANY(%s)",
                [list(OPEN_STATUSES)],
            )
        ]
        snapshots = order_snapshots(databases, open_ids) if open_ids else {}
        return sorted(key for key, (_, orphan) in snapshots.items() if orphan)

    # --- the run ----------------------------------------------------------------

    def run(self, ctx: MigrationContext, progress: Progress) -> None:
        self._check_databases(ctx)
        databases = self._databases(ctx)
        done = self._done(ctx)
        self._check_not_gone_back(ctx, done)
        if "copy_started" not in done:
            # Refused before anything is made: a refused run leaves no trace.
            self._check_store_empty(ctx)
        record = self._record(ctx)
        record.ensure_table()
        stage = self.announcer(STAGES, done, progress)

        if stage(1, "prepare"):
            create_staging(databases)
            record.mark_done("prepare")
        if stage(2, "copy"):
            if "copy_started" not in done:
                self._check_store_empty(ctx)
                record.mark_done("copy_started")
            staged = {
                kind: take_snapshots(
                    databases, kind=kind, fill=False, progress=progress
                )
                for kind in ("customer", "order")
            }
            record.mark_done("copy", staged={k: v[0] for k, v in staged.items()})
        if stage(3, "freeze"):
            # The window is measured from the first attempt: a run killed
            # after guarding keeps the old writers refused until rerun.
            record.mark_done("freeze_started")
            for service, tables in GUARDED.items():
                guard_with_events(
                    url=self._url(ctx, service), tables=tables, target=self.target
                )
                progress(f"  writes without an event refused on {', '.join(tables)}")
            record.mark_done("freeze")
        if stage(4, "fill"):
            for kind in ("customer", "order"):
                filled, removed = take_snapshots(databases, kind=kind, fill=True)
                progress(
                    f"  {STATE_TABLES[kind]}: {filled} snapshots filled, "
                    f"{removed} removed"
                )
            open_orders = fetch_value(
                databases.order,
                f"SELECT count(*) FROM {ORDER_TABLE} WHERE status = ANY(%s)",
                [list(OPEN_STATUSES)],
            )
            orphans = orphan_ids(databases.order)
            record.mark_done("fill", open_orders=open_orders, orphans=orphans)
        orphans = record.done()["fill"]["orphans"]
        if stage(5, "append"):
            appended = append_opening_events(databases)
            progress(
                "  events appended: "
                + ", ".join(f"{kind} {count}" for kind, count in appended.items())
            )
            settled = settle_copies(databases)
            progress(
                "  copies set: "
                + ", ".join(f"{name} {count}" for name, count in settled.items())
            )
            record.mark_done("append")
        progress(
            f"Orphan orders (open, customer gone): {len(orphans)}, imported and "
            "cancelled with reason customer_missing_at_import"
            + (": " + ", ".join(orphans) if orphans else "")
        )
        if stage(6, "verify"):
            self.refuse_unless_equal(
                self.checked(ctx, progress),
                "the event stores do not match the state tables; nothing "
                "switched, writes without events stay refused",
            )
            record.mark_done("verify")
        if stage(7, "switch"):
            self.switch(record, progress)
        done = record.done()
        copying = self.seconds_between(done, "copy_started", "copy")
        progress(
            f"Snapshots: {copying:.2f} s while the services took "
            "writes (a killed run's pause included)."
        )
        window = self.seconds_between(done, "freeze_started", "switch")
        progress(
            f"Cut-over window: writes refused for {window:.2f} s, from the freeze "
            "to the switch; restart the services (with their relays and "
            "consumers) to accept writes on event_sourcing."
        )

    # --- verify -----------------------------------------------------------------

    def verify(self, ctx: MigrationContext) -> Verification:
        databases = self._databases(ctx)
        verification = Verification()
        found = [
            self._check_one_opening_event(verification, databases, service)
            for service in ("customer", "order")
        ]
        fold = fold_event_stores([databases.customer, databases.order])
        found.append(self._check_fold(verification, databases, fold))
        report = audit_consistency(
            self.target,
            AuditDatabases(customer=databases.customer, order=databases.order),
        )
        fill = self._done(ctx).get("fill", {})
        expected_open = fill.get("open_orders", 0) - len(fill.get("orphans", []))
        audit = (
            f"auditor: {report.open_orders} open orders (expected {expected_open}), "
            f"{len(report.orphan_orders)} orphans, {len(report.differences)} "
            f"differences in the replica, {report.events_folded} events folded"
        )
        if report.differences or report.orphan_orders:
            verification.problems.append(audit)
            verification.problems += [
                str(difference) for difference in report.differences[:5]
            ]
        elif report.open_orders != expected_open:
            verification.problems.append(audit)
        verification.audit = "\n  ".join([*found, audit])
        return verification

    def _check_one_opening_event(
        self, verification: Verification, databases: Databases, service: str
    ) -> str:
        """Every state row has exactly one opening event, at version 1."""
        url = getattr(databases, service)
        table = STATE_TABLES[service]
        rows = row_count(url, table)
        opening = fetch_value(
            url,
            f"SELECT count(*) FROM {EVENT_STORE_TABLE} WHERE event_type = %s",
            [OPENING[service]],
        )
        wrong = fetch_value(
            url,
            f"SELECT count(*) FROM {table} t WHERE (SELECT count(*) FROM "
            f"{EVENT_STORE_TABLE} e WHERE e.aggregate_id = t.id AND e.event_type = "
            "%s AND e.aggregate_version = 1) <> 1",
            [OPENING[service]],
        )
        found = (
            f"{table} (in {database_name(url)}): {rows} rows, {opening} "
            f"{OPENING[service]} events, {wrong} rows without exactly one"
        )
        if wrong or rows != opening:
            verification.problems.append(found)
        return found

    def _check_fold(
        self, verification: Verification, databases: Databases, fold
    ) -> str:
        """The fold of the event stores equals every state row, field by field."""
        different = []
        for key, name, email, address, version in fetch_rows(
            databases.customer,
            f"SELECT id::text, name, email, address, version FROM {CUSTOMER_TABLE}",
        ):
            fact = fold.customers.get(key)
            if (
                fact is None
                or fact.deleted
                or (
                    fact.name,
                    fact.email,
                    fact.address,
                    fact.version,
                )
                != (name, email, address, version)
            ):
                different.append(f"customer {key}")
        lines: dict[str, list] = {}
        for order_id, sku, quantity, price in fetch_rows(
            databases.order,
            f"SELECT order_id::text, sku, quantity, unit_price FROM "
            f"{ORDER_LINE_TABLE} ORDER BY order_id, position",
        ):
            lines.setdefault(order_id, []).append((sku, quantity, f"{price:.2f}"))
        for key, customer_id, status, total, version in fetch_rows(
            databases.order,
            f"SELECT id::text, customer_id::text, status, total, version "
            f"FROM {ORDER_TABLE}",
        ):
            fact = fold.orders.get(key)
            folded_lines = (
                [(x["sku"], x["quantity"], x["unit_price"]) for x in fact.lines]
                if fact
                else None
            )
            if fact is None or (
                fact.customer_id,
                fact.status,
                fact.total,
                fact.version,
                folded_lines,
            ) != (customer_id, status, total, version, lines.get(key, [])):
                different.append(f"order {key}")
        found = (
            f"fold of the event stores: {len(fold.customers)} customers and "
            f"{len(fold.orders)} orders, {len(different)} state rows differ"
        )
        if different:
            verification.problems.append(
                f"{len(different)} rows differ from the fold of their events: "
                + ", ".join(different[:10])
            )
        return found

    # --- the old side -----------------------------------------------------------

    def drop_old(self, ctx: MigrationContext, progress: Progress) -> None:
        """The old side here is only what kept it safe: the guard and the
        staged snapshots. Dropped once every service runs on event_sourcing."""
        done = self._done(ctx)
        if "verify" not in done or "switch" not in done:
            raise StepRefused(
                "refusing to drop the old side: the move to event_sourcing has not "
                "finished verified (run 'approach migrate --to event_sourcing' first)"
            )
        if ctx.current != self.target:
            raise StepRefused(
                f"refusing to drop the old side: the platform is on "
                f"{ctx.current.value}, not {self.target.value}"
            )
        for service, tables in GUARDED.items():
            url = self._url(ctx, service)
            remove_event_guard(url=url, tables=list(tables))
            with open_connection(url, autocommit=True) as connection:
                connection.cursor().execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")
            progress(
                f"  {database_name(url)}: the event guard on {', '.join(tables)} "
                f"and {STAGING_TABLE} dropped"
            )
        self._record(ctx).mark_done("drop_old")

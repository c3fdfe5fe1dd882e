"""Step 1 -> 2, "split the database": shared_db to db_per_service, with the data.

The stages, each recorded when done (``strangler.state``):

1. ``databases``: the services' own databases created and migrated by the
   services' own migrations, as ``prepare_service`` does. No foreign key
   from orders to customers there: the order service's database has no
   customer table at all.
2. ``copy``: customers (and the users, their tokens and accounts) into the
   customer service's database, orders with their lines (and the users and
   tokens: each service authenticates on its own) into the order service's,
   while the old side still takes writes.
3. ``freeze``: the old side refuses writes. The cut-over window opens.
4. ``fill``: compare and fill, so rows changed or deleted during the copy
   are right too.
5. ``verify``: counts and checksums equal, the foreign key gone, the
   auditor's orphan count the same on both sides.
6. ``switch``: ``ARCHITECTURE_APPROACH=db_per_service`` written where
   ``approach set`` writes it. The window closes when the services restart
   on the new side.

Why not a timestamp delta behind the freeze? ``updated_at`` is set by
Django's ``save()`` only; a queryset ``update()`` leaves it alone, so "rows
changed since the copy started" would miss some. Compare and fill misses
none, at the price of reading every row once more inside the window.
"""

from __future__ import annotations

import subprocess

import psycopg2

from observe.audit import AuditDatabases, audit_consistency
from observe.tables import CUSTOMER_TABLE, ORDER_LINE_TABLE, ORDER_TABLE
from shared_events.approaches import Approach
from shared_events.configuration import (
    REPO_DIR,
    SERVICE_DATABASE_NAMES,
)
from stack import postgres
from stack.processes import manage_command
from strangler.catalog import database_name, foreign_key_count, has_table, row_count
from strangler.context import MigrationContext, Progress
from strangler.copying import (
    TableCopy,
    copy_missing,
    fill_differences,
    reset_sequence,
)
from strangler.plan import Plan, PlannedStage
from strangler.state import StageRecord
from strangler.step import Step, StepRefused
from strangler.verification import Verification, compare_tables
from strangler.write_freeze import freeze

USER_TABLES = [("auth_user", "id"), ("authtoken_token", "key")]
# (table, key) each service's database receives, in an order that keeps
# every foreign key satisfied (users before their tokens, orders before lines).
TABLES = {
    "customer": [
        *USER_TABLES,
        ("accounts_customeraccount", "id"),
        (CUSTOMER_TABLE, "id"),
    ],
    "order": [*USER_TABLES, (ORDER_TABLE, "id"), (ORDER_LINE_TABLE, "id")],
}
STAGES = {
    "databases": "create and migrate the services' own databases",
    "copy": "copy every row while the old side still takes writes",
    "freeze": "refuse writes on the old side (the cut-over window opens)",
    "fill": "compare and fill what changed during the copy",
    "verify": "counts, checksums, no foreign key, the auditor: both sides equal",
    "switch": "write ARCHITECTURE_APPROACH=db_per_service (approach set)",
}


class SplitDatabase(Step):
    name = "split the database"
    source = Approach.SHARED_DB
    target = Approach.DB_PER_SERVICE
    way_back = (
        "Before --drop-old: 'python manage.py approach set shared_db', then let "
        "the shared database take writes again: in it, for each of "
        "customers_customer, orders_order, orders_orderline, auth_user, "
        "authtoken_token, accounts_customeraccount run 'DROP TRIGGER "
        "strangler_write_freeze ON <table>; DROP TRIGGER "
        "strangler_write_freeze_truncate ON <table>;', restart the services, "
        "and drop the databases customer_service and order_service (with your "
        "prefix) so that a later move starts from a clean new side. Writes made "
        "on the new side after the switch are not carried back. After "
        "--drop-old there is no way back but a backup."
    )

    # --- where things are -------------------------------------------------------

    def _url(self, ctx: MigrationContext, service: str, approach: Approach) -> str:
        return ctx.database_url(service=service, approach=approach)

    def _record(self, ctx: MigrationContext) -> StageRecord:
        return StageRecord(
            url=self._url(ctx, "customer", self.target),
            step="shared_db->db_per_service",
        )

    def _copies(self, ctx: MigrationContext) -> list[TableCopy]:
        source = self._url(ctx, "customer", self.source)
        return [
            TableCopy(
                table=table,
                key=key,
                source_url=source,
                target_url=self._url(ctx, service, self.target),
            )
            for service, tables in TABLES.items()
            for table, key in tables
            if has_table(source, table)
        ]

    def _done(self, ctx: MigrationContext) -> dict:
        try:
            return self._record(ctx).done()
        except psycopg2.OperationalError:
            return {}  # the new database does not exist yet

    def finished(self, ctx: MigrationContext) -> bool:
        return "switch" in self._done(ctx)

    # --- refusals ---------------------------------------------------------------

    def _check_source(self, ctx: MigrationContext) -> None:
        url = self._url(ctx, "customer", self.source)
        try:
            missing = [
                table
                for table in (CUSTOMER_TABLE, ORDER_TABLE, ORDER_LINE_TABLE)
                if not has_table(url, table)
            ]
        except psycopg2.OperationalError as error:
            raise StepRefused(
                f"cannot reach the shared database {database_name(url)}: "
                f"{str(error).strip()}"
            ) from None
        if missing:
            raise StepRefused(
                f"the shared database {database_name(url)} has no "
                f"{', '.join(missing)}: it holds no shared_db platform to move "
                "(python manage.py migrate)"
            )

    def _check_not_gone_back(self, ctx: MigrationContext, done: dict) -> None:
        if "switch" in done and ctx.current == self.source:
            raise StepRefused(
                "this platform went back to shared_db after a finished move; its "
                "new databases hold that older copy. Drop them "
                f"({', '.join(SERVICE_DATABASE_NAMES.values())}, with your prefix) "
                "and run again"
            )

    def _check_target_empty(self, copies: list[TableCopy]) -> None:
        """A new side with rows this step did not put there is not ours to fill."""
        for copy in copies:
            if row_count(copy.target_url, copy.table):
                raise StepRefused(
                    f"{database_name(copy.target_url)} already holds rows in "
                    f"{copy.table} that this step did not copy; drop that database "
                    "(or empty the table) and run again"
                )

    # --- the plan ---------------------------------------------------------------

    def plan(self, ctx: MigrationContext) -> Plan:
        self._check_source(ctx)
        done = self._done(ctx)
        self._check_not_gone_back(ctx, done)
        plan = Plan(step=self.name, source=self.source, target=self.target)
        plan.stages = [
            PlannedStage(name=name, does=does, done=name in done)
            for name, does in STAGES.items()
        ]
        source = self._url(ctx, "customer", self.source)
        for service, tables in TABLES.items():
            for table, _ in tables:
                if has_table(source, table):
                    target = database_name(self._url(ctx, service, self.target))
                    plan.row_counts[f"{table} -> {target}"] = row_count(source, table)
        plan.notes = [
            f"the old database {database_name(source)} is kept (frozen) until "
            "--drop-old",
            "writes are refused from 'freeze' until the services restart on the "
            "new approach (a trigger answers them with SQLSTATE 55000: HTTP 503)",
            f"the way back: {self.way_back}",
        ]
        return plan

    # --- the run ----------------------------------------------------------------

    def run(self, ctx: MigrationContext, progress: Progress) -> None:
        self._check_source(ctx)
        done = self._done(ctx)
        self._check_not_gone_back(ctx, done)
        stage = self.announcer(STAGES, done, progress)

        if stage(1, "databases"):
            self._make_databases(ctx, progress)
        record = self._record(ctx)
        record.ensure_table()
        record.mark_done("databases")
        copies = self._copies(ctx)
        if stage(2, "copy"):
            if "copy_started" not in done:
                self._check_target_empty(copies)
                record.mark_done("copy_started")
            inserted = {c.table: copy_missing(c, progress=progress) for c in copies}
            record.mark_done("copy", inserted=inserted)
        if stage(3, "freeze"):
            tables = sorted({copy.table for copy in copies})
            # The window is measured from here, the first attempt: a run
            # killed after freezing keeps the writes refused until rerun.
            record.mark_done("freeze_started")
            freeze(url=copies[0].source_url, tables=tables, target=self.target.value)
            record.mark_done("freeze", tables=tables)
            progress(f"  writes refused on {', '.join(tables)}")
        if stage(4, "fill"):
            self._fill(copies, progress)
            record.mark_done("fill")
        if stage(5, "verify"):
            verification = self.checked(ctx, progress)
            if not verification.equal:
                progress("  not equal: filling again, then comparing again")
                self._fill(copies, progress)
                verification = self.checked(ctx, progress)
            self.refuse_unless_equal(
                verification,
                "the new side is not equal to the old; nothing switched, the "
                "old side stays frozen",
            )
            record.mark_done("verify")
        if stage(6, "switch"):
            self.switch(record, progress)
        done = record.done()
        copying = self.seconds_between(done, "copy_started", "copy")
        progress(
            f"Bulk copy: {copying:.2f} s while the old side took "
            "writes (a killed run's pause included)."
        )
        window = self.seconds_between(done, "freeze_started", "switch")
        progress(
            f"Cut-over window: writes refused for {window:.2f} s, from the freeze "
            "to the switch; restart the services to accept writes on the new side."
        )

    def _make_databases(self, ctx: MigrationContext, progress: Progress) -> None:
        names = [
            database_name(self._url(ctx, service, self.target)) for service in TABLES
        ]
        if ctx.server_url:
            created = postgres.create_databases(server_url=ctx.server_url, names=names)
            if created:
                progress(f"  created {', '.join(created)}")
        for service in TABLES:
            progress(f"  migrating the {service} service's own database")
            completed = subprocess.run(
                manage_command(service, "migrate", "--no-input", "-v", "0"),
                cwd=REPO_DIR,
                env=ctx.child_environment(self.target),
                capture_output=True,
                text=True,
            )
            if completed.returncode != 0:
                raise StepRefused(
                    f"migrating the {service} service's database failed:\n"
                    f"{completed.stdout[-2000:]}{completed.stderr[-2000:]}"
                )

    def _fill(self, copies: list[TableCopy], progress: Progress) -> None:
        for copy, (filled, removed) in fill_differences(copies).items():
            progress(
                f"  {copy.table} (into {database_name(copy.target_url)}): "
                f"{filled} rows filled, {removed} removed"
            )
            reset_sequence(url=copy.target_url, table=copy.table, key=copy.key)

    # --- verify -----------------------------------------------------------------

    def verify(self, ctx: MigrationContext) -> Verification:
        verification = compare_tables(self._copies(ctx))
        order_url = self._url(ctx, "order", self.target)
        if foreign_key_count(order_url, ORDER_TABLE) or has_table(
            order_url, CUSTOMER_TABLE
        ):
            verification.problems.append(
                "the order service's database still reaches a customer table"
            )
        shared = self._url(ctx, "customer", self.source)
        before = audit_consistency(
            self.source, AuditDatabases(customer=shared, order=shared)
        )
        after = audit_consistency(
            self.target,
            AuditDatabases(
                customer=self._url(ctx, "customer", self.target), order=order_url
            ),
        )
        verification.audit = (
            f"auditor: {before.open_orders} open orders and "
            f"{len(before.orphan_orders)} orphans before, {after.open_orders} and "
            f"{len(after.orphan_orders)} after"
        )
        if (before.open_orders, len(before.orphan_orders)) != (
            after.open_orders,
            len(after.orphan_orders),
        ):
            verification.problems.append(verification.audit)
        return verification

    # --- the old side -----------------------------------------------------------

    def drop_old(self, ctx: MigrationContext, progress: Progress) -> None:
        done = self._done(ctx)
        if "verify" not in done or "switch" not in done:
            raise StepRefused(
                "refusing to drop the shared database: the move to db_per_service "
                "has not finished verified (run 'approach migrate --to "
                "db_per_service' first)"
            )
        if ctx.current != self.target:
            raise StepRefused(
                f"refusing to drop the shared database: the platform is on "
                f"{ctx.current.value}, not {self.target.value}"
            )
        url = self._url(ctx, "customer", self.source)
        if not ctx.server_url:
            raise StepRefused(
                f"the shared database {database_name(url)} was named outright "
                "(SHARED_DATABASE_URL): drop it yourself"
            )
        postgres.drop_databases(server_url=ctx.server_url, names=[database_name(url)])
        record = self._record(ctx)
        record.mark_done("drop_old")
        progress(f"dropped the old shared database {database_name(url)}")

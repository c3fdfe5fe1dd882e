"""Step 4 -> 5, "add the read side": event_sourcing to cqrs_es, with the data.

Nothing of approach 4 changes: the event stores stay the truth, with the
state tables, the replica, the outboxes, the relays and the consumers. What
approach 5 adds is a read side per service: a read database of its own,
denormalized read models (``CustomerSummary``, ``OrderView``) kept by a
projector, and the query API that reads only them. So this step builds the
read side beside the running write side and fills it from the event stores.

The stages, each recorded when done (``strangler.state``), in the customer
service's read database, the new side:

1. ``databases``: each service's read database created and migrated by its
   own migrations, as ``prepare_service`` does under cqrs_es.
2. ``subscribe``: the read side's inboxes created and subscribed to both
   services' topics (``aws_bootstrap`` under cqrs_es). From here on every
   event the relays publish also waits there for the projectors.
3. ``rebuild``: each service's read models replayed from both event stores
   by ``rebuild_read_models`` (opening events included), while the services
   keep writing. The highest event id of each store is recorded first.
4. ``verify``: every event the stores held when the rebuild began applied
   by both read sides (their ``event_processed``), every customer and order
   of the write side in the read models, and the auditor: no difference but
   rows that events after the rebuild touched (those are on their way).
5. ``switch``: ``ARCHITECTURE_APPROACH=cqrs_es``.

No cut-over window: no write is refused at any stage. Nothing moves from
one store to another; the event stores stay the one truth before and after.
The rebuild catches up with them while they grow and leaves a cursor per
aggregate; whatever is appended after its last pass was published to the
read inboxes, subscribed before the rebuild began, and the projectors apply
it from there (an event the rebuild had too is a duplicate, skipped). The
only gap a learner sees is the query API answering 404 until the services
restart on cqrs_es.
"""

from __future__ import annotations

import os
import subprocess

import psycopg2

from observe.tables import EVENT_STORE_TABLE
from shared_events.approaches import Approach
from shared_events.configuration import (
    REPO_DIR,
    SERVICES,
    read_database_url,
)
from stack import postgres
from stack.connections import open_connection
from stack.processes import manage_command
from strangler.catalog import database_name, has_table, row_count
from strangler.context import MigrationContext, Progress
from strangler.copying import BATCH_ROWS_VARIABLE
from strangler.introduce_events import GUARDED
from strangler.opening_events import STAGING_TABLE
from strangler.plan import Plan, PlannedStage
from strangler.read_side import (
    CUSTOMER_ROWS,
    ORDER_ROWS,
    STATE_TABLES,
    compare_read_side,
    high_water,
    rows_not_ours,
)
from strangler.state import StageRecord
from strangler.step import Step, StepRefused
from strangler.verification import Verification
from strangler.write_freeze import remove_event_guard

STAGES = {
    "databases": "create and migrate each service's read database",
    "subscribe": "the read side's inboxes subscribed to both topics "
    "(events from now on wait for the projectors)",
    "rebuild": "replay both event stores into each service's read models while "
    "writes go on",
    "verify": "every event of the stores at the rebuild applied by both read "
    "sides; every customer and order there; the auditor",
    "switch": "write ARCHITECTURE_APPROACH=cqrs_es (approach set)",
}


class AddReadSide(Step):
    name = "add the read side"
    source = Approach.EVENT_SOURCING
    target = Approach.CQRS_ES
    way_back = (
        "'python manage.py approach set event_sourcing' and restart the services "
        "with their relays and consumers, without projectors: the write side "
        "never changed, so nothing written meanwhile is lost. The read inboxes "
        "(customer-read-inbox, order-read-inbox) keep receiving events until "
        "you delete them. To move again later, drop the read databases "
        "(customer_read and order_read, with your prefix): they hold this "
        "move's record, and the move refuses read databases holding rows it "
        "did not write."
    )

    # --- where things are -------------------------------------------------------

    def _write_urls(self, ctx: MigrationContext) -> dict[str, str]:
        return {
            service: ctx.database_url(service=service, approach=self.target)
            for service in SERVICES
        }

    def _read_urls(self, ctx: MigrationContext) -> dict[str, str]:
        return {
            service: read_database_url(env=ctx.env, service=service)
            for service in SERVICES
        }

    def _record(self, ctx: MigrationContext) -> StageRecord:
        return StageRecord(
            url=self._read_urls(ctx)["customer"], step="event_sourcing->cqrs_es"
        )

    def _done(self, ctx: MigrationContext) -> dict:
        try:
            return self._record(ctx).done()
        except psycopg2.OperationalError:
            return {}  # no read database yet

    def finished(self, ctx: MigrationContext) -> bool:
        return "switch" in self._done(ctx)

    # --- refusals ---------------------------------------------------------------

    def _check_backends(self, ctx: MigrationContext) -> None:
        store = ctx.env.str("EVENT_STORE", default="postgres")
        if store != "postgres":
            raise StepRefused(
                f"EVENT_STORE={store}: the rebuild replays the PostgreSQL event "
                "stores only; move with EVENT_STORE=postgres"
            )
        delivery = ctx.env.str("EVENT_DELIVERY", default="sns")
        if delivery != "sns":
            # Under sqs the relays still on event_sourcing send to the inboxes
            # they know, not to the read side's; under kinesis a projector
            # reads the streams from a position of its own. Either would
            # leave a gap between the rebuild and the projectors' start.
            raise StepRefused(
                f"EVENT_DELIVERY={delivery}: this step subscribes the read side's "
                "inboxes to the SNS topics before the rebuild so that nothing "
                "published after it is missed; move with EVENT_DELIVERY=sns"
            )

    def _check_write_databases(self, ctx: MigrationContext) -> None:
        for service, url in self._write_urls(ctx).items():
            try:
                missing = [
                    table
                    for table in (STATE_TABLES[service], EVENT_STORE_TABLE)
                    if not has_table(url, table)
                ]
            except psycopg2.OperationalError as error:
                raise StepRefused(
                    f"cannot reach the {service} service's database "
                    f"{database_name(url)}: {str(error).strip()}"
                ) from None
            if missing:
                raise StepRefused(
                    f"the {service} service's database {database_name(url)} has "
                    f"no {', '.join(missing)}: it holds no event_sourcing platform "
                    "to move (python manage.py migrate)"
                )

    def _creates(self, ctx: MigrationContext, url: str) -> bool:
        """Whether the step creates the database at ``url`` if it is missing."""
        return bool(ctx.server_url) and url.startswith(ctx.server_url.rstrip("/"))

    def _check_read_side_ours(self, ctx: MigrationContext) -> None:
        """Read databases holding rows this step did not write are not ours."""
        for service, url in self._read_urls(ctx).items():
            try:
                found = rows_not_ours(url, service)
            except psycopg2.OperationalError as error:
                if self._creates(ctx, url):
                    continue  # missing: made at 'databases'
                raise StepRefused(
                    f"cannot reach the {service} service's read database "
                    f"{database_name(url)}: {str(error).strip()}"
                ) from None
            if found:
                raise StepRefused(
                    f"the {service} service's read database {database_name(url)} "
                    f"already holds {', '.join(found)}, which this step did not "
                    "write; drop that database (or empty it) and run again"
                )

    def _check_not_gone_back(self, ctx: MigrationContext, done: dict) -> None:
        if "switch" in done and ctx.current == self.source:
            names = ", ".join(database_name(u) for u in self._read_urls(ctx).values())
            raise StepRefused(
                "this platform went back to event_sourcing after a finished move; "
                f"its read databases hold the read side of then. Drop them "
                f"({names}) and run again"
            )

    def _check(self, ctx: MigrationContext) -> dict:
        """Every refusal that needs no change made; what is done already."""
        self._check_backends(ctx)
        self._check_write_databases(ctx)
        done = self._done(ctx)
        self._check_not_gone_back(ctx, done)
        if "rebuild_started" not in done:
            self._check_read_side_ours(ctx)
        return done

    # --- the plan ---------------------------------------------------------------

    def plan(self, ctx: MigrationContext) -> Plan:
        done = self._check(ctx)
        plan = Plan(step=self.name, source=self.source, target=self.target)
        plan.stages = [
            PlannedStage(name=name, does=does, done=name in done)
            for name, does in STAGES.items()
        ]
        write = self._write_urls(ctx)
        for url in write.values():
            plan.row_counts[
                f"{database_name(url)} {EVENT_STORE_TABLE} -> replayed into both "
                "read sides"
            ] = row_count(url, EVENT_STORE_TABLE)
        for service, rows in (("customer", CUSTOMER_ROWS), ("order", ORDER_ROWS)):
            shown = ", ".join(table for _, table, _ in rows)
            plan.row_counts[f"{STATE_TABLES[service]} -> {shown}"] = row_count(
                write[service], STATE_TABLES[service]
            )
        names = ", ".join(database_name(u) for u in self._read_urls(ctx).values())
        plan.notes = [
            f"the read databases {names} are created and migrated if missing",
            "no write is refused at any stage (no cut-over window): the event "
            "stores stay the truth, and what is appended after the rebuild waits "
            "in the read inboxes for the projectors",
            "until the services restart on cqrs_es the query API answers 404",
            f"the way back: {self.way_back}",
        ]
        return plan

    # --- the run ----------------------------------------------------------------

    def run(self, ctx: MigrationContext, progress: Progress) -> None:
        done = self._check(ctx)
        stage = self.announcer(STAGES, done, progress)

        if stage(1, "databases"):
            self._make_databases(ctx, progress)
        record = self._record(ctx)
        record.ensure_table()
        record.mark_done("databases")
        if stage(2, "subscribe"):
            self._service_command(ctx, "customer", "aws_bootstrap", quiet=True)
            progress("  customer-read-inbox and order-read-inbox subscribed")
            record.mark_done("subscribe")
        if stage(3, "rebuild"):
            self._rebuild(ctx, record, done, progress)
            record.mark_done("rebuild")
        if stage(4, "verify"):
            self.refuse_unless_equal(
                self.checked(ctx, progress),
                "the read side does not match the event stores; nothing "
                "switched, the services go on under event_sourcing",
            )
            record.mark_done("verify")
        if stage(5, "switch"):
            self.switch(record, progress)
        done = record.done()
        rebuilding = self.seconds_between(done, "rebuild_started", "rebuild")
        progress(
            f"Rebuild: {rebuilding:.2f} s while the services took "
            "writes (a killed run's pause included)."
        )
        progress(
            "Cut-over window: none, no write was refused. Restart the services "
            "(with their relays, consumers and projectors) on cqrs_es: the query "
            "API answers from then on, and the projectors apply what waited in "
            "the read inboxes."
        )

    def _make_databases(self, ctx: MigrationContext, progress: Progress) -> None:
        names = [
            database_name(url)
            for url in self._read_urls(ctx).values()
            if self._creates(ctx, url)
        ]
        if names:
            created = postgres.create_databases(server_url=ctx.server_url, names=names)
            if created:
                progress(f"  created {', '.join(created)}")
        for service in SERVICES:
            progress(f"  migrating the {service} service's read database")
            self._service_command(
                ctx, service, "migrate", "--database", "read", "--no-input", quiet=True
            )

    def _rebuild(
        self, ctx: MigrationContext, record: StageRecord, done: dict, progress
    ) -> None:
        """Each service's read models, one after the other, resumed if killed."""
        if "rebuild_started" not in done:
            marks = {
                service: high_water(url)
                for service, url in self._write_urls(ctx).items()
            }
            record.mark_done("rebuild_started", high_water=marks)
        marks = record.done()["rebuild_started"]["high_water"]
        progress(
            "  the event stores up to "
            + ", ".join(f"{service} id {mark}" for service, mark in marks.items())
            + " must reach both read sides"
        )
        # The test knob: small chunks, each one reported, make a rebuild
        # slow enough to be killed in the middle (tests/test_strangler_path.py).
        batch = os.environ.get(BATCH_ROWS_VARIABLE)
        sizes = ["--batch-size", batch, "--progress-every", batch] if batch else []
        for service in SERVICES:
            if f"rebuild_{service}" in done:
                progress(f"  the {service} service's read models: done before")
                continue
            progress(f"  the {service} service's read models, from both event stores")
            summary = self._service_command(
                ctx,
                service,
                "rebuild_read_models",
                "--resume",
                *sizes,
                progress=progress,
            )
            record.mark_done(f"rebuild_{service}", summary=summary)

    def _service_command(
        self,
        ctx: MigrationContext,
        service: str,
        *arguments: str,
        progress: Progress | None = None,
        quiet: bool = False,
    ) -> str:
        """``manage.py --service SERVICE ARGUMENTS`` under cqrs_es, in a child
        process of this one (a kill of the command's process group ends it
        too); its output passed on line by line unless ``quiet``. Its last
        line."""
        process = subprocess.Popen(
            manage_command(service, *arguments),
            cwd=REPO_DIR,
            env={**ctx.child_environment(self.target), "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = []
        for line in process.stdout:
            lines.append(line.rstrip())
            if progress is not None and not quiet:
                progress("    " + lines[-1])
        if process.wait() != 0:
            raise StepRefused(
                f"'manage.py --service {service} {' '.join(arguments)}' failed "
                f"(exit {process.returncode}):\n" + "\n".join(lines[-20:])
            )
        return lines[-1] if lines else ""

    # --- verify -----------------------------------------------------------------

    def verify(self, ctx: MigrationContext) -> Verification:
        write = self._write_urls(ctx)
        marks = self._done(ctx).get("rebuild_started", {}).get("high_water") or {
            service: high_water(url) for service, url in write.items()
        }
        return compare_read_side(write=write, read=self._read_urls(ctx), marks=marks)

    # --- the old side -----------------------------------------------------------

    def drop_old(self, ctx: MigrationContext, progress: Progress) -> None:
        """Nothing of approach 4 is old under approach 5: it keeps the whole
        write side. What is dropped is step 2 -> 4's safety net, if it is
        still there: that step's own --drop-old refuses once the platform has
        moved on."""
        done = self._done(ctx)
        if "verify" not in done or "switch" not in done:
            raise StepRefused(
                "refusing to drop anything: the move to cqrs_es has not finished "
                "verified (run 'approach migrate --to cqrs_es' first)"
            )
        if ctx.current != self.target:
            raise StepRefused(
                f"refusing to drop anything: the platform is on "
                f"{ctx.current.value}, not {self.target.value}"
            )
        progress(
            "Nothing old to drop: approach 5 keeps approach 4's event stores, "
            "state tables, replica, outboxes, relays and consumers."
        )
        for service, tables in GUARDED.items():
            url = self._write_urls(ctx)[service]
            remove_event_guard(url=url, tables=list(tables))
            with open_connection(url, autocommit=True) as connection:
                connection.cursor().execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")
            progress(
                f"  {database_name(url)}: step 2 -> 4's event guard on "
                f"{', '.join(tables)} and {STAGING_TABLE} dropped (if still there)"
            )
        self._record(ctx).mark_done("drop_old")

"""Rebuild a service's read models by replaying every event, while queries go on.

A read model is only a cache of the events: drop it, replay the events
through the same projection handlers, and the same rows come back. This
module does that without a moment in which the query API has nothing to
read. What a learner should notice, step by step:

1. **Fresh tables beside the live ones.** In the read database a schema
   ``rebuild`` gets a copy of every read-model table and of the read side's
   tracking tables (``event_processed``, ``event_aggregate_cursor``):
   ``CREATE TABLE rebuild.x (LIKE public.x INCLUDING ALL)``, with indexes and
   constraints renamed to the live tables' names, so the migrations still
   find them after the switch. Queries keep reading ``public``, and the live
   read-side consumer keeps projecting there, the whole time.
2. **The same projections, in bulk.** A second Django connection to the
   read database (alias ``read_model_rebuild``) has
   ``search_path=rebuild,public``. The events are replayed in chunks of
   ``batch_size``, one transaction each, by the same fold functions the live
   consumer runs (the service's ``PROJECTION_HANDLERS``, each a
   ``shared_events.read_side.projectors.Projector``) under the read-side consumer's own
   name, so the processed-event records and cursors are rebuilt too: after
   the switch, a redelivered event is a duplicate. Nobody else writes the
   ``rebuild`` tables, so the per-event locks and round trips of
   ``apply_event`` are left out: each chunk is loaded with a query per
   table, folded in memory and written with one multi-row statement per
   table (``shared_events.read_side.bulk_projection``); duplicates are skipped and an
   event ahead of its aggregate is held, as the live consumer would.
   (``django_migrations`` and every other table stay in ``public``.)
3. **The replay source: both event stores.** A customer summary needs the
   order service's events and an order view the customer service's, so the
   replay reads the service's own event store and, through a read-only
   connection, the peer's (its write database, the URL its settings would
   use). In production the peer's events would come from an archived stream
   (a Kinesis stream or its S3 archive); reading another service's database
   is tolerable here only because it is read-only and only for a replay.
   Events are merged by ``(occurred_at, id)`` across the two stores; within
   one store they stay in id order, which keeps each aggregate's versions in
   order.
4. **Catch-up.** Passes repeat until one replays (almost) nothing new. Ids
   are taken at insert, not at commit, so a lower id can still appear after
   a higher one: a replay position only moves past an id once it has been
   replayed, or once every transaction that could still commit it has ended
   (``pg_stat_activity`` says which were writing; a rolled-back insert leaves
   a hole for good).
5. **The switch, in one short transaction.** Take the swap lock (a
   PostgreSQL advisory lock, exclusive), replay the few events that arrived
   since the last pass, replay any event the live consumer applied that the
   rebuild has not (so the switch can lose nothing), then move the live
   tables to a schema ``retired``, the rebuilt ones to ``public``
   (``ALTER TABLE ... SET SCHEMA``) and drop ``retired``. A query that
   arrives meanwhile waits a few milliseconds and reads the new tables.
   The live read-side consumer takes the same lock, shared, at the start of
   each message's transaction (``shared_events.consume.projection_guard``), so no
   message is applied half to the old tables and half to the new.
6. **Resume.** The replay positions are kept in ``rebuild.progress``, in the
   same transaction as the events they cover. An interrupted rebuild leaves
   ``rebuild`` as it is; ``--resume`` carries on from there. That is also
   why a chunk's commit does not wait for the disk (``synchronous_commit``
   off, for the rebuild's connection only): a crash loses at most the last
   chunks together with their progress, and the resume replays them. The
   switch's commit waits.

``processed_at`` of an event the live consumer had already applied is
carried over into the rebuilt tracking table, so the lag measured after a
rebuild is still the live pipeline's, not the replay's.

The package, one module per job: ``source`` (reading the event stores),
``schema`` (the shadow tables), ``replay`` (chunks and passes), ``switch``
(the swap) and ``runner`` (a whole run, as the command starts it).
"""

from shared_events.consume import SWAP_LOCK, hold_read_model_swap_lock
from shared_events.read_side.rebuild.replay import RebuildResult
from shared_events.read_side.rebuild.runner import (
    REPLAY_SOURCE_ALIAS,
    RUN_LOCK,
    read_only_event_store,
    rebuild_read_models,
)
from shared_events.read_side.rebuild.schema import (
    REBUILD_ALIAS,
    REBUILD_SCHEMA,
    RETIRED_SCHEMA,
    RebuildError,
    read_model_tables,
)
from shared_events.read_side.rebuild.source import ReplaySource, StoredRow

__all__ = [
    "REBUILD_ALIAS",
    "REBUILD_SCHEMA",
    "REPLAY_SOURCE_ALIAS",
    "RETIRED_SCHEMA",
    "RUN_LOCK",
    "SWAP_LOCK",
    "RebuildError",
    "RebuildResult",
    "ReplaySource",
    "StoredRow",
    "hold_read_model_swap_lock",
    "read_model_tables",
    "read_only_event_store",
    "rebuild_read_models",
]

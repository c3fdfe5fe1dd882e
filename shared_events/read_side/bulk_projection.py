"""Applying a chunk of events at once: the rebuild's bulk path.

``apply_event`` applies one event per transaction with nine statements: the
swap lock, the processed-event check, the aggregate's cursor (created,
locked, advanced), the projection's reads and writes, the processed-event
record. That is what a live consumer needs, since other consumer processes
write the same tables at the same time. A rebuild writes tables nobody else
writes (the ``rebuild`` schema), so it can do the same work for a whole
chunk of events with a handful of statements:

1. **Load.** One query for the cursors of every aggregate in the chunk, and
   one per ``(model, field)`` the chunk's projectors read
   (``Projector.reads``).
2. **Fold, in memory.** Each event, in order, is checked against its
   aggregate's cursor with the consumer's own rule (``cursor_standing``: a
   duplicate is skipped, an event ahead of its aggregate is held), then the
   *same* fold functions as the live consumer's run on :class:`ChunkRows`,
   an in-memory :class:`~shared_events.read_side.projectors.ReadModelRows`.
3. **Write.** One statement per table and kind of row
   (``shared_events.read_side.bulk_writes``): ``COPY`` of the rows the chunk created
   (read-model rows, processed-event records, cursors of aggregates seen
   for the first time), one ``INSERT ... ON CONFLICT DO UPDATE`` of the rows
   that were there before and changed.

What a learner should notice: exactly-once and in-order still hold, per
chunk instead of per event; only the locking is gone, because nobody else
writes these tables. The result is the same rows as ``apply_event`` event by
event: each read side's ``tests/test_bulk_projection.py`` checks that, with
``shared_events.testing.bulk_equivalence``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import connections, models
from django.utils import timezone

from shared_events.consume import Outcome, cursor_standing
from shared_events.events import EventEnvelope
from shared_events.models import AggregateCursor, ProcessedEvent
from shared_events.read_side.bulk_writes import (
    ModelTable,
    copy_rows,
    quote,
    upsert_rows,
)
from shared_events.read_side.projectors import (
    Projector,
    ReadModelRows,
    require_projectors,
)


class ChunkRows(ReadModelRows):
    """Read-model rows of one chunk of events, in memory, written in one go.

    A row is loaded at most once: by :meth:`load` for the whole chunk, or, for
    a row no projector named in its ``reads``, on first use (counted in
    ``queries_on_demand``). ``complete`` remembers which ``(model, field,
    value)`` are fully in memory, so an absent row is known to be absent and
    :meth:`update` by a field reaches every row that has it.
    """

    def __init__(self, database: str) -> None:
        self.database = database
        self.rows: dict[type[models.Model], dict[Any, models.Model]] = defaultdict(dict)
        self.changed: dict[type[models.Model], set[Any]] = defaultdict(set)
        # Rows made in memory: not in the database yet, so COPY can add them.
        self.created: dict[type[models.Model], set[Any]] = defaultdict(set)
        self.complete: set[tuple[type[models.Model], str, Any]] = set()
        # model -> field -> value -> primary keys, for update() by a field
        self.indexes: dict[type[models.Model], dict[str, dict[Any, set]]] = defaultdict(
            dict
        )
        self.queries_on_demand = 0

    # Loading ---------------------------------------------------------------------

    def load(self, model: type[models.Model], field: str, values: Iterable) -> None:
        """Bring every row of ``model`` whose ``field`` is one of ``values``."""
        model_field = model._meta.get_field(field)
        wanted = {model_field.to_python(value) for value in values}
        wanted = {v for v in wanted if (model, field, v) not in self.complete}
        if not wanted:
            return
        connection = connections[self.database]
        with connection.cursor() as cursor:
            found = ModelTable.of(model).select(
                cursor, connection, field=field, values=list(wanted)
            )
        for row in found:
            if row.pk not in self.rows[model]:  # one in memory is newer
                self._keep(model, row)
        self.complete.update((model, field, value) for value in wanted)

    def _ensure(self, model: type[models.Model], field: str, value: Any) -> None:
        if (model, field, value) not in self.complete:
            self.queries_on_demand += 1
            self.load(model, field, [value])

    def _keep(self, model: type[models.Model], row: models.Model) -> None:
        self.rows[model][row.pk] = row
        self.complete.add((model, model._meta.pk.attname, row.pk))
        for field, index in self.indexes[model].items():
            index.setdefault(getattr(row, field), set()).add(row.pk)

    def _index(self, model: type[models.Model], field: str) -> dict[Any, set]:
        index = self.indexes[model].get(field)
        if index is None:
            index = self.indexes[model][field] = {}
            for key, row in self.rows[model].items():
                index.setdefault(getattr(row, field), set()).add(key)
        return index

    # The port ----------------------------------------------------------------------

    def get(self, model, key):
        if key not in self.rows[model]:
            self._ensure(model, model._meta.pk.attname, key)
        return self.rows[model].get(key)

    def locked(self, model, key, **defaults):
        # Nobody else writes the chunk's tables: there is nothing to lock.
        row, _ = self.get_or_create(model, key, **defaults)
        return row

    def get_or_create(self, model, key, **defaults):
        row = self.get(model, key)
        if row is not None:
            return row, False
        row = model(**{model._meta.pk.attname: key}, **defaults)
        ModelTable.of(model).as_stored(row)
        self._keep(model, row)
        self.changed[model].add(key)
        self.created[model].add(key)
        return row, True

    def save(self, row, *fields):
        model = type(row)
        ModelTable.of(model).as_stored(row)
        indexes = self.indexes[model]
        for field in fields:
            if field in indexes:  # the row may have moved in the index
                for keys in indexes[field].values():
                    keys.discard(row.pk)
                indexes[field].setdefault(getattr(row, field), set()).add(row.pk)
        self.changed[model].add(row.pk)

    def update(self, model, field, value, **changes):
        if field == model._meta.pk.attname:
            row = self.get(model, value)
            matching = [row] if row is not None else []
        else:
            self._ensure(model, field, value)
            keys = self._index(model, field).get(value, set())
            matching = [self.rows[model][key] for key in sorted(keys, key=str)]
        for row in matching:
            for name, new in changes.items():
                setattr(row, name, new)
            self.save(row, *changes)

    # Writing -----------------------------------------------------------------------

    def flush(self) -> int:
        """Write every changed row: COPY the new, upsert the rest; the number."""
        written = 0
        connection = connections[self.database]
        with connection.cursor() as cursor:
            for model, keys in self.changed.items():
                rows = self.rows[model]
                created = self.created[model]
                ModelTable.of(model).write(
                    cursor.cursor,
                    connection,
                    new=[rows[key] for key in keys if key in created],
                    changed=[rows[key] for key in keys if key not in created],
                )
                written += len(keys)
        self.changed.clear()
        self.created.clear()
        return written


@dataclass
class _Cursor:
    aggregate_type: str
    version: int
    existed: bool  # in the database before this chunk: updated, not added


PROCESSED_COLUMNS = (
    "consumer",
    "event_id",
    "event_type",
    "aggregate_id",
    "aggregate_version",
    "occurred_at",
)
CURSOR_COLUMNS = ("consumer", "aggregate_id", "aggregate_type", "version", "updated_at")


class BulkProjection:
    """One chunk of events, applied exactly once and in order, in memory.

    ``load`` the chunk, ``apply`` each event in order (the same outcomes as
    ``apply_event``: APPLIED, DUPLICATE or HELD), then ``flush`` inside the
    caller's transaction on ``database``.
    """

    def __init__(
        self,
        *,
        consumer: str,
        handlers: Mapping[str, Sequence[Projector]],
        database: str,
    ) -> None:
        require_projectors(handlers)
        self.consumer = consumer
        self.handlers = handlers
        self.database = database
        self.rows = ChunkRows(database)
        self.cursors: dict[UUID, _Cursor] = {}
        self.processed: list[EventEnvelope] = []

    def load(self, envelopes: Sequence[EventEnvelope]) -> None:
        """The cursors and the rows the chunk's projectors read: a query each."""
        aggregate_ids = {UUID(envelope.aggregate_id) for envelope in envelopes}
        if aggregate_ids:
            with connections[self.database].cursor() as cursor:
                cursor.execute(
                    "SELECT aggregate_id, aggregate_type, version FROM "
                    f"{quote(AggregateCursor._meta.db_table)} WHERE consumer = %s "
                    "AND aggregate_id = ANY(%s::uuid[])",
                    [self.consumer, [str(a) for a in aggregate_ids]],
                )
                for aggregate_id, aggregate_type, version in cursor.fetchall():
                    self.cursors[_uuid(aggregate_id)] = _Cursor(
                        aggregate_type, version, existed=True
                    )
        wanted: dict[tuple[type[models.Model], str], set] = defaultdict(set)
        for envelope in envelopes:
            for projector in self.handlers.get(envelope.event_type, ()):
                for model, field in projector.reads:
                    value = envelope.payload.get(field)
                    if value is not None:
                        wanted[model, field].add(value)
        for (model, field), values in wanted.items():
            self.rows.load(model, field, values)

    def apply(self, envelope: EventEnvelope) -> Outcome:
        """The event's effect on the rows in memory, if it is its aggregate's next."""
        aggregate_id = UUID(envelope.aggregate_id)
        cursor = self.cursors.get(aggregate_id)
        standing = cursor_standing(
            envelope, applied_version=cursor.version if cursor else 0
        )
        if standing is not None:
            return standing
        for projector in self.handlers.get(envelope.event_type, ()):
            projector.fold(envelope, self.rows)
        self.processed.append(envelope)
        if cursor is None:
            cursor = self.cursors[aggregate_id] = _Cursor(
                envelope.aggregate_type, 0, existed=False
            )
        cursor.version = envelope.aggregate_version
        return Outcome.APPLIED

    def flush(self) -> int:
        """Write the chunk: read-model rows, processed events, cursors; rows written."""
        written = self.rows.flush()
        if not self.processed:
            return written
        now = timezone.now()
        # In the order first applied, like the live consumer's inserts.
        advanced = dict.fromkeys(UUID(e.aggregate_id) for e in self.processed)
        cursor_rows: dict[bool, list[tuple]] = {False: [], True: []}
        for aggregate_id in advanced:
            state = self.cursors[aggregate_id]
            cursor_rows[state.existed].append(
                (self.consumer, aggregate_id, state.aggregate_type, state.version, now)
            )
        with connections[self.database].cursor() as cursor:
            # processed_at: the column's default, the statement's time.
            copy_rows(
                cursor.cursor,
                table=ProcessedEvent._meta.db_table,
                columns=PROCESSED_COLUMNS,
                rows=(
                    (
                        self.consumer,
                        envelope.event_id,
                        envelope.event_type,
                        envelope.aggregate_id,
                        envelope.aggregate_version,
                        envelope.occurred_at,
                    )
                    for envelope in self.processed
                ),
            )
            copy_rows(
                cursor.cursor,
                table=AggregateCursor._meta.db_table,
                columns=CURSOR_COLUMNS,
                rows=cursor_rows[False],
            )
            upsert_rows(
                cursor.cursor,
                table=AggregateCursor._meta.db_table,
                columns=CURSOR_COLUMNS,
                conflict=["consumer", "aggregate_id"],
                rows=cursor_rows[True],
            )
        written += len(self.processed) + len(advanced)
        self.processed = []
        return written


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))

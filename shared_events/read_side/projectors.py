"""Projectors: each projection written once, run live or in bulk.

A projection handler is a *fold*: given one event and the read-model rows it
touches, it changes those rows. Where the rows come from, and when the
changes are written, is not the fold's business; it asks a
:class:`ReadModelRows` for them. Two adapters implement that port:

* :class:`DatabaseRows`, the live read-side consumer's: every call is a
  statement on the read database, inside the transaction ``apply_event``
  opened for the one message, with the row locks that keep two consumer
  processes from overwriting each other;
* ``shared_events.read_side.bulk_projection.ChunkRows``, the rebuild's: the rows of a
  whole chunk of events are loaded with one query per table, folded in
  memory, and written back with one statement per table.

What a learner should notice: both paths run the *same* fold functions, so
a rebuilt read model cannot drift from the live one. A :class:`Projector`
is what a service lists in its ``PROJECTION_HANDLERS``: called with an
envelope, as the consumer calls any handler, it runs its fold on the
database; the rebuild takes its ``fold`` and its ``reads`` instead.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models

from shared_events.events import EventEnvelope

Row = TypeVar("Row", bound=models.Model)


class ReadModelRows(ABC):
    """Where a projection finds and changes read-model rows (the port).

    Rows are model instances found by primary key. A change made with
    :meth:`save` or :meth:`update` is seen by every later call of the same
    event or, in bulk, of the same chunk.
    """

    @abstractmethod
    def get(self, model: type[Row], key: Any) -> Row | None:
        """The row with primary key ``key``, or None."""

    @abstractmethod
    def locked(self, model: type[Row], key: Any, **defaults: Any) -> Row:
        """The row, inserted with ``defaults`` if missing; no one else changes it
        until this event is applied (insert-if-missing, then lock)."""

    @abstractmethod
    def get_or_create(
        self, model: type[Row], key: Any, **defaults: Any
    ) -> tuple[Row, bool]:
        """The row, created with ``defaults`` if missing; and whether it was."""

    @abstractmethod
    def save(self, row: models.Model, *fields: str) -> None:
        """Write the named fields of ``row``."""

    @abstractmethod
    def update(self, model: type[models.Model], field: str, value: Any, **changes):
        """Set ``changes`` on every row of ``model`` whose ``field`` is ``value``."""


class DatabaseRows(ReadModelRows):
    """The live adapter: each call is a statement on the projecting database.

    The database is the one ``apply_event`` routes read models to (see
    ``shared_events.consume.projecting``), in its transaction.
    """

    def get(self, model, key):
        return model.objects.filter(pk=key).first()

    def locked(self, model, key, **defaults):
        # Insert-if-missing, then lock: two consumer processes projecting
        # events of different aggregates onto the same row take turns on it.
        model.objects.bulk_create(
            [model(**{model._meta.pk.attname: key}, **defaults)],
            ignore_conflicts=True,
        )
        return model.objects.select_for_update().get(pk=key)

    def get_or_create(self, model, key, **defaults):
        return model.objects.get_or_create(
            **{model._meta.pk.attname: key}, defaults=defaults
        )

    def save(self, row, *fields):
        row.save(update_fields=fields)

    def update(self, model, field, value, **changes):
        model.objects.filter(**{field: value}).update(**changes)


DATABASE_ROWS = DatabaseRows()

Fold = Callable[[EventEnvelope, ReadModelRows], None]


@dataclass(frozen=True)
class Projector:
    """One projection handler: a fold, runnable on the database or in bulk.

    ``reads`` says which rows the fold looks at, as ``(model, field)``
    pairs: the rows of ``model`` whose ``field`` equals the payload's value
    of the same name. The live path does not need it (it reads as it
    goes); the rebuild loads those rows for a whole chunk of events in one
    query per pair. A row it failed to name is still found, one query at a
    time, so ``reads`` is about speed, never about correctness.
    """

    fold: Fold
    reads: Sequence[tuple[type[models.Model], str]] = ()

    def __call__(self, envelope: EventEnvelope) -> None:
        """The live consumer's call: apply the event to the database."""
        self.fold(envelope, DATABASE_ROWS)


class NotBulkProjectable(TypeError):
    """A handler is not a Projector, so it cannot be applied in memory."""


def require_projectors(handlers: Mapping[str, Sequence[Any]]) -> None:
    """Refuse handlers the bulk path cannot run (plain functions write directly)."""
    for event_type, listed in handlers.items():
        for handler in listed:
            if not isinstance(handler, Projector):
                raise NotBulkProjectable(
                    f"the {event_type} handler {handler!r} is not a Projector "
                    "(shared_events.read_side.projectors): only a fold can be "
                    "applied in bulk"
                )

"""The bulk path against the per-event path: the same deliveries, the same rows.

Each service's read-side tests use this to prove that
``shared_events.read_side.bulk_projection`` (what ``rebuild_read_models`` runs) leaves
exactly the rows that ``apply_event`` (what the live consumer runs) leaves,
event by event, for the same deliveries in the same order: every column of
every read-model row (but ``projected_at``, the wall-clock moment), the
processed-event records and the cursors, and the same outcome for each
delivery (applied, duplicate, held).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from django.db import transaction
from hypothesis import event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from shared_events.consume import Outcome, apply_event
from shared_events.events import EventEnvelope, EventType
from shared_events.models import AggregateCursor, ProcessedEvent
from shared_events.read_side import BulkProjection, Projector
from shared_events.testing.stateful import (
    ReadModelMachine,
    empty_read_side,
    read_models,
)
from shared_events.testing.stories import told

READ_DATABASE = "read"
# The wall-clock moment of writing: no two runs can agree on it.
UNREPEATABLE = {"projected_at", "processed_at", "updated_at", "id"}


def read_side(consumer: str) -> dict[str, dict]:
    """Every row the consumer writes, keyed, but for the unrepeatable columns."""

    def rows(model, queryset, key):
        names = [
            field.attname
            for field in model._meta.concrete_fields
            if field.attname not in UNREPEATABLE
        ]
        return {key(row): row for row in queryset.values(*names)}

    tables = {
        model._meta.label: rows(
            model,
            model.objects.using(READ_DATABASE).all(),
            lambda row, model=model: row[model._meta.pk.attname],
        )
        for model in read_models()
    }
    tables["processed"] = rows(
        ProcessedEvent,
        ProcessedEvent.objects.using(READ_DATABASE).filter(consumer=consumer),
        lambda row: row["event_id"],
    )
    tables["cursors"] = rows(
        AggregateCursor,
        AggregateCursor.objects.using(READ_DATABASE).filter(consumer=consumer),
        lambda row: row["aggregate_id"],
    )
    return tables


def one_by_one(
    deliveries: Sequence[EventEnvelope],
    *,
    consumer: str,
    handlers: Mapping[str, Sequence[Projector]],
) -> list[Outcome]:
    """The live consumer's path: ``apply_event``, one transaction per delivery."""
    return [
        apply_event(
            consumer=consumer,
            envelope=envelope,
            handlers=handlers.get(envelope.event_type, ()),
            database=READ_DATABASE,
        )
        for envelope in deliveries
    ]


@dataclass
class BulkRun:
    outcomes: list[Outcome]
    chunks: int
    queries_on_demand: int


def in_chunks(
    deliveries: Sequence[EventEnvelope],
    *,
    consumer: str,
    handlers: Mapping[str, Sequence[Projector]],
    chunk_size: Callable[[], int],
) -> BulkRun:
    """The rebuild's path: chunks of ``chunk_size()`` deliveries, a transaction each."""
    run = BulkRun(outcomes=[], chunks=0, queries_on_demand=0)
    position = 0
    while position < len(deliveries):
        chunk = deliveries[position : position + chunk_size()]
        position += len(chunk)
        with transaction.atomic(using=READ_DATABASE):
            bulk = BulkProjection(
                consumer=consumer, handlers=handlers, database=READ_DATABASE
            )
            bulk.load(chunk)
            run.outcomes += [bulk.apply(envelope) for envelope in chunk]
            bulk.flush()
        run.chunks += 1
        run.queries_on_demand += bulk.rows.queries_on_demand
    return run


def assert_same_rows(per_event: dict, bulk: dict) -> None:
    """Fail with the differing rows, table by table."""
    differences = []
    for table in sorted(set(per_event) | set(bulk)):
        one, other = per_event.get(table, {}), bulk.get(table, {})
        for key in sorted(set(one) | set(other), key=str):
            if one.get(key) != other.get(key):
                differences.append(
                    f"  {table} {key}:\n    per event {one.get(key)}\n"
                    f"    in bulk   {other.get(key)}"
                )
    assert not differences, "the bulk path left other rows:\n" + "\n".join(differences)


class BulkEquivalenceContract:
    """Tests every read side runs: subclass with the service's consumer and handlers.

    Each example tells a story of both services' events (``told``), delivers
    it as a consumer might receive it (aggregates interleaved, duplicates,
    later events before earlier ones) once through ``apply_event`` and once
    through the bulk path in random chunks, and compares.
    """

    consumer: ClassVar[str]
    handlers: ClassVar[Mapping[str, Sequence[Projector]]]

    def _compare(self, deliveries, *, handlers, seed: int, largest: int) -> BulkRun:
        empty_read_side(self.consumer)
        outcomes = one_by_one(deliveries, consumer=self.consumer, handlers=handlers)
        per_event = read_side(self.consumer)
        empty_read_side(self.consumer)
        sizes = random.Random(seed)
        run = in_chunks(
            deliveries,
            consumer=self.consumer,
            handlers=handlers,
            chunk_size=lambda: sizes.randint(1, largest),
        )
        assert run.outcomes == outcomes, "the bulk path decided otherwise"
        assert_same_rows(per_event, read_side(self.consumer))
        return run

    @hypothesis_settings(max_examples=12, deadline=None)
    @given(
        seed=st.integers(min_value=0, max_value=2**32 - 1),
        largest=st.sampled_from([1, 2, 7, 30, 500]),
    )
    def test_in_bulk_the_same_deliveries_leave_the_same_rows(self, seed, largest):
        story = told(seed, customers=4, steps=40)
        run = self._compare(
            story.deliveries(), handlers=self.handlers, seed=seed, largest=largest
        )
        # Every row the folds read was named in a projector's reads.
        assert run.queries_on_demand == 0

    def test_the_stories_cover_every_case(self):
        """What the examples above go through, for one story: all of it."""
        story = told(7, customers=6, steps=120)
        deliveries = story.deliveries()
        run = self._compare(deliveries, handlers=self.handlers, seed=7, largest=20)
        assert {e.event_type for e in deliveries} == {str(t) for t in EventType}
        assert {Outcome.APPLIED, Outcome.DUPLICATE, Outcome.HELD} <= set(run.outcomes)
        registered_at = {
            e.aggregate_id: index
            for index, e in enumerate(deliveries)
            if e.event_type == EventType.CUSTOMER_REGISTERED
        }
        assert any(  # an order that arrived before its customer did
            index < registered_at.get(e.payload["customer_id"], -1)
            for index, e in enumerate(deliveries)
            if e.event_type == EventType.ORDER_PLACED
        )
        assert any(  # an aggregate whose events span chunks
            sum(1 for e in deliveries if e.aggregate_id == aggregate) > 3
            for aggregate in registered_at
        )

    def test_a_row_no_projector_named_is_still_found(self):
        """``reads`` is about speed only: without it, rows are found one by one."""
        blind = {
            event_type: [Projector(projector.fold) for projector in listed]
            for event_type, listed in self.handlers.items()
        }
        story = told(11, customers=4, steps=40)
        run = self._compare(story.deliveries(), handlers=blind, seed=11, largest=15)
        assert run.queries_on_demand > 0


class BulkDeliveryMachine(ReadModelMachine):
    """A read-model state machine whose consumer may also take messages in bulk.

    Mixed into a service's machine (``class X(ServiceMachine,
    BulkDeliveryMachine)``), it adds two rules; the machine's invariant then
    checks the bulk path against the fold of the events, stamps included:

    * **catch up in bulk**: everything pending, aggregates interleaved, with
      later events too early (held) and earlier ones again (duplicates) mixed
      in, applied by ``BulkProjection`` in chunks of random size;
    * **rebuild in bulk**: empty the read side, replay the whole log in
      chunks, and get the same tables back.
    """

    def _in_bulk(self, data, deliveries: list[EventEnvelope]) -> list[Outcome]:
        run = in_chunks(
            deliveries,
            consumer=self.consumer,
            handlers=self.handlers,
            chunk_size=lambda: data.draw(
                st.integers(min_value=1, max_value=25), label="chunk"
            ),
        )
        return run.outcomes

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def catch_up_in_bulk(self, data) -> None:
        slots = [aggregate_id for aggregate_id, q in self.pending.items() for _ in q]
        deliveries, expected, applied = [], [], []
        for aggregate_id in data.draw(st.permutations(slots), label="interleaving"):
            queue = self.pending[aggregate_id]
            if len(queue) > 1 and data.draw(st.booleans(), label="a later one first"):
                deliveries.append(data.draw(st.sampled_from(queue[1:]), label="early"))
                expected.append(Outcome.HELD)
            envelope = queue.pop(0)
            if not queue:
                del self.pending[aggregate_id]
            deliveries.append(envelope)
            expected.append(Outcome.APPLIED)
            applied.append(envelope)
            if data.draw(st.booleans(), label="again"):
                seen = [*self.applied, *applied]
                deliveries.append(data.draw(st.sampled_from(seen), label="duplicate"))
                expected.append(Outcome.DUPLICATE)
        outcomes = self._in_bulk(data, deliveries)
        assert outcomes == expected, "the bulk path decided otherwise"
        self.applied += applied
        event("caught up in bulk")

    @precondition(lambda self: len(self.log) > self.rebuilt_at and not self.pending)
    @rule(data=st.data())
    def rebuild_in_bulk_from_the_log(self, data) -> None:
        self._rebuild(
            lambda log: self._in_bulk(data, log), "a rebuild in bulk from the log"
        )

"""The contract every read side's projection runs, written once.

Each service's ``test_projections`` subclasses :class:`ProjectionContract`
with its consumer and its ``PROJECTION_HANDLERS``, says what its read models
hold after one short story (``story_of_one_customer``), and keeps beside it
the tests that are its read model's own. What a learner should notice: what
a read model holds differs from service to service, but these do not:

* every event type of the catalog has a decided projection;
* events of different aggregates leave the same rows in any order, an order
  projected before its customer's registration included;
* a duplicate delivery changes nothing.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pytest
from django.db import models

from shared_events.consume import Handler, Outcome
from shared_events.events import EventEnvelope, EventType, OpeningEventType
from shared_events.testing.projection_events import (
    cancelled,
    deleted,
    placed,
    read_side_projector,
    registered,
    renamed,
)
from shared_events.testing.stateful import (
    STAMP_FIELDS,
    UNFOLDABLE_FIELDS,
    read_models,
)


def row_state(row: models.Model) -> dict[str, Any]:
    """Every column of ``row``, its stamp included."""
    return {
        field.attname: getattr(row, field.attname)
        for field in row._meta.concrete_fields
    }


def projected_columns(
    row: models.Model, *, leave_out: Sequence[str] = ()
) -> dict[str, Any]:
    """What the projection wrote to ``row``: every column but its key, its
    stamp and ``leave_out``."""
    left_out = {row._meta.pk.attname, *STAMP_FIELDS, *UNFOLDABLE_FIELDS, *leave_out}
    state = row_state(row)
    return {name: value for name, value in state.items() if name not in left_out}


def every_row() -> dict[str, dict[Any, dict[str, Any]]]:
    """Every column of every read-model row, by model label and primary key."""
    return {
        model._meta.label: {row.pk: row_state(row) for row in model.objects.all()}
        for model in read_models()
    }


def last_event_of(row: models.Model) -> tuple:
    """The last event applied to ``row``: its id, its type, when it happened."""
    return row.last_event_id, row.last_event_type, row.last_event_occurred_at


def interleavings(*lengths: int) -> list[tuple[int, ...]]:
    """Every order in which streams of these lengths can interleave.

    Each order is a tuple of stream indexes; every stream keeps its own order
    (as the consumer keeps each aggregate's events in version order).
    """
    slots = [index for index, length in enumerate(lengths) for _ in range(length)]
    return sorted(set(itertools.permutations(slots)))


def merged(streams: Sequence[list], order: tuple[int, ...]) -> list:
    iterators = [iter(stream) for stream in streams]
    return [next(iterators[index]) for index in order]


def story_of_one_customer(
    customer_id: uuid.UUID, first: uuid.UUID, second: uuid.UUID
) -> tuple[list[EventEnvelope], ...]:
    """Three aggregates' events: Ada registers, is renamed Ada King and is
    deleted; her first order (two books at 9.99) is placed and cancelled; her
    second (a pen at 3.50) is placed."""
    return (
        [
            registered(customer_id),
            renamed(customer_id, "Ada King", version=2, minutes=2),
            deleted(customer_id, version=3, minutes=6),
        ],
        [
            placed(first, customer_id, lines=[("BOOK-1", 2, "9.99")], minutes=1),
            cancelled(first, customer_id, minutes=5),
        ],
        [placed(second, customer_id, lines=[("PEN-1", 1, "3.50")], minutes=3)],
    )


class ProjectionContract:
    pytestmark = [pytest.mark.django_db(databases=["default", "read"])]
    consumer: ClassVar[str]
    handlers: ClassVar[Mapping[str, Sequence[Handler]]]

    def project(self, *envelopes: EventEnvelope) -> list[Outcome]:
        project = read_side_projector(consumer=self.consumer, handlers=self.handlers)
        return project(*envelopes)

    def read_models_of(
        self, customer_id: uuid.UUID, orders: tuple[uuid.UUID, uuid.UUID]
    ) -> Any:
        """What the read models hold of the customer and the orders, without
        their ids (every run of the story has new ones)."""
        raise NotImplementedError

    def check_the_story(self, read_models: Any) -> None:
        """Assert what ``story_of_one_customer`` leaves, as ``read_models_of``
        returns it."""
        raise NotImplementedError

    def test_every_event_type_of_the_catalog_has_a_decided_projection(self):
        # An empty list is a decision too ("counts for nothing", "no row"); a
        # missing key would be a new event type nobody thought about for the
        # read model.
        assert set(self.handlers) == set(EventType) | set(OpeningEventType)

    def test_events_of_different_aggregates_in_any_order_give_the_same_read_models(
        self,
    ):
        orders = interleavings(3, 2, 1)
        assert len(orders) == 60  # 6! / (3! 2! 1!)
        results = {}
        for order in orders:
            customer_id, order_ids = uuid.uuid4(), (uuid.uuid4(), uuid.uuid4())
            events = merged(story_of_one_customer(customer_id, *order_ids), order)
            assert self.project(*events) == [Outcome.APPLIED] * len(events)
            results[order] = self.read_models_of(customer_id, order_ids)

        # the order in which the customer's events all come first ...
        reference = results[(0, 0, 0, 1, 1, 2)]
        # ... and the one in which both orders come before the registration
        assert results[(1, 1, 2, 0, 0, 0)] == reference
        assert all(result == reference for result in results.values())
        self.check_the_story(reference)

    def test_a_duplicate_delivery_changes_nothing(self):
        customer_id, order_id = uuid.uuid4(), uuid.uuid4()
        events = [
            registered(customer_id),
            placed(order_id, customer_id, lines=[("BOOK-1", 1, "10.00")]),
            renamed(customer_id, "Ada King", version=2),
            cancelled(order_id, customer_id),
        ]
        self.project(*events)
        before = every_row()
        assert all(before.values()), "the events left a read model empty"

        assert self.project(*events) == [Outcome.DUPLICATE] * len(events)

        assert every_row() == before

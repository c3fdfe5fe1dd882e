"""A hypothesis state machine that proves a read model is the fold of the events.

One module past the usual 400 lines, on purpose: a state machine reads best
whole, its rules, its invariants and the model they share side by side.

Each service's read-model tests subclass :class:`ReadModelMachine` and say
what their read model should hold: which event wrote each row last
(``last_written``) and what each row holds (``expected_rows``). The machine
then does what production does, in an order hypothesis chooses:

* **Commands on the write side.** Register, change and delete customers;
  place orders as the order service's customer replica sees them (a replica
  that lags refuses, ``OrderRejected``, an order for a customer just
  registered and accepts one for a customer just deleted; an unknown
  customer is always refused); cancel orders; and cancel a deleted
  customer's open orders, as the order service does when ``CustomerDeleted``
  arrives. The real aggregates record the events and ``envelopes_for`` wraps
  them, as the event-sourced repository does, and every envelope goes
  through ``encode``/``from_json`` as through the queue. The list of every
  envelope, in commit order, *is* the write side.
* **Deliveries to the read-side consumer**, through its real ``apply_event``
  with the service's ``PROJECTION_HANDLERS``: the next message of any
  aggregate, so aggregates interleave at random; a message delivered before
  (at-least-once delivery: a DUPLICATE that changes nothing); a later message
  of an aggregate before an earlier one (HELD, changes nothing, stays
  pending); or everything pending, in a random cross-aggregate order (the
  consumer catches up).
* **A full rebuild.** Once caught up: empty the read models and the read
  side's tracking tables, replay the whole log once in commit order through
  the same ``apply_event`` and handlers, and get the same tables back.
  (``rebuild_read_models`` does the same per event, reading the two event
  stores instead of this log, into tables beside the live ones.)

What a learner should notice: after *every* step the read model equals the
fold of the events delivered so far, whatever order they came in, and once
the consumer has caught up it equals the fold of the whole write side. The
fold is plain Python over the envelopes (the aggregates' own ``fold`` for
customer and order state), written without looking at the projection code:
a projection that forgets a cancellation, leaves a stale name on an order or
takes the last order delivered for the latest one shows up as a difference,
with the steps that led to it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import ModuleType
from typing import Any, ClassVar
from uuid import UUID, uuid4

from celery import current_app
from django.apps import apps
from django.conf import settings
from django.db import models
from hypothesis import Phase, event
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from shared_events.consume import Handler, Outcome, apply_event, projecting
from shared_events.events import (
    AggregateType,
    EventEnvelope,
    EventType,
    encode,
    from_json,
)
from shared_events.models import AggregateCursor, ProcessedEvent
from shared_events.write_side import Aggregate, RecordedEvent, envelopes_for

READ_DATABASE = "read"

# The last event applied to a row. Which event that is depends on the order
# of delivery, so it is compared with the fold of the events in the order
# they were applied, never with another order's.
STAMP_FIELDS = ("last_event_id", "last_event_type", "last_event_occurred_at")
# The wall-clock moment of projecting: no fold of the events can know it.
UNFOLDABLE_FIELDS = ("projected_at",)

# OrderAggregate's statuses (order_service.orders.domain).
PENDING = "pending"
APPROVED = "approved"
CANCELLED = "cancelled"

# Customer events that change no data a copy keeps: they move the customer's
# version, not the versions the read models record.
COPY_NEUTRAL_EVENTS = frozenset(
    {
        EventType.CUSTOMER_DELETION_REJECTED,
        EventType.CREDIT_RESERVED,
        EventType.CREDIT_LIMIT_EXCEEDED,
        EventType.CREDIT_RELEASED,
    }
)

Row = dict[str, Any]
Tables = dict[str, dict[Any, Row]]
"""Model label -> primary key -> the row's other fields."""

# Small pools, so that a change to the value a customer already has (which
# records no event) comes up often; some free text, so that whatever a
# customer types is copied faithfully.
FREE_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
    min_size=1,
    max_size=40,
)
NAMES = st.sampled_from(["Ada Lovelace", "Ada King", "Grace Hopper"]) | FREE_TEXT
EMAILS = st.sampled_from(["ada@example.com", "ada@king.example", "grace@navy.example"])
ADDRESSES = (
    st.sampled_from(["12 St James's Square, London", "Ockham Park, Surrey"]) | FREE_TEXT
)
LINES = st.lists(
    st.tuples(
        st.sampled_from(["BOOK-1", "PEN-1", "INK-1"]),
        st.integers(min_value=1, max_value=5),
        st.decimals(min_value=0, max_value=Decimal("9999.99"), places=2),
    ),
    min_size=1,
    max_size=3,
)

# Twenty machines of forty steps a run: each CI run draws new ones, and the
# suite's time is shared by every lane on two cores.
MACHINE_SETTINGS = hypothesis_settings(
    max_examples=20,
    stateful_step_count=40,
    deadline=None,
    # Not the explain phase: it traces every line while shrinking, which
    # makes each run of the machine three to four times slower.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
"""About five seconds per service on a laptop's PostgreSQL."""


def import_from_peer_service(module_name: str) -> ModuleType:
    """Import a module of the other service, keeping this service's Celery app current.

    The peer's domain module is plain Python, but importing it runs the peer
    package's ``__init__``, which creates the peer's Celery app, and a new
    Celery app makes itself the process's current app.
    """
    own_app = current_app._get_current_object()
    module = importlib.import_module(module_name)
    own_app.set_current()
    return module


def stamp_of(envelope: EventEnvelope) -> Row:
    """The last-event fields a row written by ``envelope`` records."""
    return {
        "last_event_id": envelope.event_id,
        "last_event_type": envelope.event_type,
        "last_event_occurred_at": envelope.occurred_at,
    }


def without(tables: Tables, names: Sequence[str]) -> Tables:
    return {
        label: {
            key: {name: value for name, value in row.items() if name not in names}
            for key, row in rows.items()
        }
        for label, rows in tables.items()
    }


_ABSENT = object()


def assert_same_tables(actual: Tables, expected: Tables, headline: str) -> None:
    """Fail with one line per differing row, naming the fields that differ."""
    if actual == expected:
        return
    lines = [headline]
    for label in sorted(set(actual) | set(expected)):
        rows, wanted = actual.get(label, {}), expected.get(label, {})
        for key in sorted(set(rows) | set(wanted), key=str):
            if key not in rows:
                lines.append(f"  {label} {key}: missing; expected {wanted[key]}")
            elif key not in wanted:
                lines.append(f"  {label} {key}: should not exist; is {rows[key]}")
            elif rows[key] != wanted[key]:
                differences = ", ".join(
                    f"{name} is {rows[key].get(name, _ABSENT)!r}, expected "
                    f"{wanted[key].get(name, _ABSENT)!r}"
                    for name in sorted(set(rows[key]) | set(wanted[key]))
                    if rows[key].get(name, _ABSENT) != wanted[key].get(name, _ABSENT)
                )
                lines.append(f"  {label} {key}: {differences}")
    raise AssertionError("\n".join(lines))


def read_models() -> list[type[models.Model]]:
    """The models of the service's read-model apps (``settings.READ_MODEL_APPS``)."""
    return [
        model
        for label in sorted(settings.READ_MODEL_APPS)
        for model in apps.get_app_config(label).get_models()
    ]


def empty_read_side(consumer: str) -> None:
    """Delete every read-model row and the consumer's tracking: a fresh start."""
    with projecting(READ_DATABASE):
        for model in read_models():
            model.objects.using(READ_DATABASE).all().delete()
    for tracking_model in (ProcessedEvent, AggregateCursor):
        tracking_model.objects.using(READ_DATABASE).filter(consumer=consumer).delete()


@dataclass(frozen=True)
class WriteSide:
    """What a list of events leaves on the write side: the aggregates, folded."""

    customers: dict[UUID, Aggregate]
    orders: dict[UUID, Aggregate]
    placed_at: dict[UUID, datetime]
    cancelled_at: dict[UUID, datetime]
    # Each customer's version as of its last change of data.
    data_versions: dict[UUID, int]

    def customer_details(self, customer_id: UUID) -> Row:
        """What both read sides copy of a customer: empty until it registers."""
        customer = self.customers.get(customer_id)
        return {
            "name": customer.name if customer else "",
            "email": customer.email if customer else "",
            "address": customer.address if customer else "",
            "deleted": bool(customer and customer.deleted),
        }

    def customer_version(self, customer_id: UUID) -> int:
        """The version of the customer's last change of data (0: not registered)."""
        return self.data_versions.get(customer_id, 0)


class ReadModelMachine(RuleBasedStateMachine):
    """Random commands, random deliveries; the read model must be their fold.

    A subclass names the read-side consumer and its handlers, hands over both
    services' domain modules (the aggregates record the events) and says what
    the read model holds after a list of events: which event wrote each row
    last (``last_written``) and what each row holds, computed from the
    folded write side (``expected_rows``).
    """

    consumer: ClassVar[str]
    handlers: ClassVar[Mapping[str, Sequence[Handler]]]
    customer_domain: ClassVar[ModuleType]
    order_domain: ClassVar[ModuleType]
    # Read model -> the row the write side leaves for a key, stamp aside.
    expected_rows: ClassVar[
        Mapping[type[models.Model], Callable[[WriteSide, Any], Row]]
    ]

    def __init__(self) -> None:
        super().__init__()
        self.read_models = read_models()
        self.log: list[EventEnvelope] = []  # the write side, in commit order
        self.applied: list[EventEnvelope] = []  # in the order they were applied
        self.pending: dict[UUID, list[EventEnvelope]] = {}  # per aggregate
        self.customers: dict[UUID, Aggregate] = {}
        self.orders: dict[UUID, Aggregate] = {}
        # How many events were applied when the invariant last looked: a
        # command changes no read model, so there is nothing new to check.
        self.checked_at: int | None = None
        self.rebuilt_at = 0  # the length of the log last rebuilt from
        self.empty_read_side()

    # What the read model should be -----------------------------------------------

    def last_written(
        self, events: Sequence[EventEnvelope]
    ) -> Mapping[tuple[type[models.Model], Any], EventEnvelope]:
        """Which event wrote each row (read model, key) last, of ``events``."""
        raise NotImplementedError

    def expected_tables(self, events: Sequence[EventEnvelope]) -> Tables:
        """The read model's rows after ``events``, applied in this order: each
        row as ``expected_rows`` computes it, stamped with the event that
        wrote it last."""
        write_side = self.fold_write_side(events)
        tables: Tables = {model._meta.label: {} for model in self.expected_rows}
        for (model, key), envelope in self.last_written(events).items():
            row = self.expected_rows[model](write_side, key)
            tables[model._meta.label][key] = {**row, **stamp_of(envelope)}
        return tables

    def fold_write_side(self, events: Sequence[EventEnvelope]) -> WriteSide:
        streams: dict[UUID, list[EventEnvelope]] = {}
        for envelope in events:
            streams.setdefault(UUID(envelope.aggregate_id), []).append(envelope)
        customers: dict[UUID, Aggregate] = {}
        orders: dict[UUID, Aggregate] = {}
        for aggregate_id, stream in streams.items():
            versions = [envelope.aggregate_version for envelope in stream]
            assert versions == list(range(1, len(stream) + 1)), (
                f"the machine lost track of {aggregate_id}'s events: {versions}"
            )
            recorded = [
                RecordedEvent(
                    event_type=envelope.event_type,
                    payload=envelope.payload,
                    aggregate_version=envelope.aggregate_version,
                    schema_version=envelope.schema_version,
                )
                for envelope in stream
            ]
            if stream[0].aggregate_type == AggregateType.CUSTOMER:
                customers[aggregate_id] = self.customer_domain.CustomerAggregate.fold(
                    aggregate_id, recorded
                )
            else:
                orders[aggregate_id] = self.order_domain.OrderAggregate.fold(
                    aggregate_id, recorded
                )
        return WriteSide(
            customers=customers,
            orders=orders,
            placed_at=self._moments(events, EventType.ORDER_PLACED),
            cancelled_at=self._moments(events, EventType.ORDER_CANCELLED),
            data_versions={
                UUID(envelope.aggregate_id): envelope.aggregate_version
                for envelope in events
                if envelope.aggregate_type == AggregateType.CUSTOMER
                and envelope.event_type not in COPY_NEUTRAL_EVENTS
            },
        )

    @staticmethod
    def _moments(events: Sequence[EventEnvelope], event_type: str) -> dict:
        return {
            UUID(envelope.aggregate_id): envelope.occurred_at
            for envelope in events
            if envelope.event_type == event_type
        }

    # What the read model is ------------------------------------------------------

    def tables(self, *, leave_out: Sequence[str] = UNFOLDABLE_FIELDS) -> Tables:
        tables: Tables = {}
        for model in self.read_models:
            key = model._meta.pk.attname
            names = [
                field.attname
                for field in model._meta.concrete_fields
                if field.attname != key and field.attname not in leave_out
            ]
            rows = model.objects.using(READ_DATABASE).values(key, *names)
            tables[model._meta.label] = {row.pop(key): row for row in rows}
        return tables

    def tracking(self) -> tuple[set[UUID], dict[UUID, int]]:
        """The consumer's processed event ids and each aggregate's cursor."""
        processed = ProcessedEvent.objects.using(READ_DATABASE).filter(
            consumer=self.consumer
        )
        cursors = AggregateCursor.objects.using(READ_DATABASE).filter(
            consumer=self.consumer
        )
        return (
            set(processed.values_list("event_id", flat=True)),
            dict(cursors.values_list("aggregate_id", "version")),
        )

    def everything(self) -> tuple:
        """Every column of every row the consumer may write, for "nothing changed"."""
        return (
            self.tables(leave_out=()),
            list(
                ProcessedEvent.objects.using(READ_DATABASE)
                .filter(consumer=self.consumer)
                .order_by("id")
                .values()
            ),
            list(
                AggregateCursor.objects.using(READ_DATABASE)
                .filter(consumer=self.consumer)
                .order_by("id")
                .values()
            ),
        )

    def empty_read_side(self) -> None:
        empty_read_side(self.consumer)

    def project(self, envelope: EventEnvelope) -> Outcome:
        return apply_event(
            consumer=self.consumer,
            envelope=envelope,
            handlers=self.handlers.get(envelope.event_type, []),
            database=READ_DATABASE,
        )

    # The write side: commands on the real aggregates -----------------------------

    def _commit(self, aggregate: Aggregate, producer: str) -> None:
        envelopes = envelopes_for(
            aggregate=aggregate, events=aggregate.collect_pending(), producer=producer
        )
        for envelope in envelopes:
            sent = from_json(encode(envelope))  # as the queue carries it
            self.log.append(sent)
            self.pending.setdefault(UUID(sent.aggregate_id), []).append(sent)

    def _live_customers(self) -> list[Aggregate]:
        return [c for c in self.customers.values() if not c.deleted]

    def _open_orders(self) -> list[Aggregate]:
        return [o for o in self.orders.values() if o.status in (PENDING, APPROVED)]

    def _pending_orders(self) -> list[Aggregate]:
        return [o for o in self.orders.values() if o.status == PENDING]

    def _deleted_with_open_orders(self) -> list[UUID]:
        return [
            customer.id
            for customer in self.customers.values()
            if customer.deleted
            and any(order.customer_id == customer.id for order in self._open_orders())
        ]

    @rule(name=NAMES, email=EMAILS, address=ADDRESSES)
    def register_customer(self, name: str, email: str, address: str) -> None:
        customer = self.customer_domain.CustomerAggregate.register(
            customer_id=uuid4(), name=name, email=email, address=address
        )
        self.customers[customer.id] = customer
        self._commit(customer, "customer")

    @precondition(lambda self: self._live_customers())
    @rule(
        data=st.data(),
        name=st.none() | NAMES,
        email=st.none() | EMAILS,
        address=st.none() | ADDRESSES,
    )
    def change_customer(
        self,
        data: st.DataObject,
        name: str | None,
        email: str | None,
        address: str | None,
    ) -> None:
        customer = data.draw(st.sampled_from(self._live_customers()), label="customer")
        customer.change(name=name, email=email, address=address)
        self._commit(customer, "customer")

    @precondition(lambda self: self._live_customers())
    @rule(data=st.data())
    def delete_customer(self, data: st.DataObject) -> None:
        customer = data.draw(st.sampled_from(self._live_customers()), label="customer")
        customer.delete()
        self._commit(customer, "customer")

    def _place(self, customer_id: UUID, lines: list) -> None:
        domain = self.order_domain
        order = domain.OrderAggregate.place(
            order_id=uuid4(),
            customer_id=customer_id,
            lines=[
                domain.OrderLineValue(sku=sku, quantity=quantity, unit_price=price)
                for sku, quantity, price in lines
            ],
        )
        self.orders[order.id] = order
        self._commit(order, "order")

    @precondition(lambda self: self._live_customers())
    @rule(data=st.data(), lines=LINES)
    def place_order(self, data: st.DataObject, lines: list) -> None:
        customer = data.draw(st.sampled_from(self._live_customers()), label="customer")
        self._place(customer.id, lines)

    @rule(data=st.data(), lines=LINES, replica_is_behind=st.booleans())
    def place_order_as_a_lagging_replica_sees_it(
        self, data: st.DataObject, lines: list, replica_is_behind: bool
    ) -> None:
        """The order service decides from its customer replica, which may lag.

        A replica that is behind has not seen the customer's latest event: it
        refuses (``OrderRejected``) an order for a customer just registered
        and accepts one for a customer just deleted. An unknown customer is
        always refused.
        """
        customer_id = data.draw(
            st.sampled_from([*self.customers, None]), label="customer"
        )
        customer = self.customers.get(customer_id)
        if customer is not None and customer.deleted == replica_is_behind:
            self._place(customer.id, lines)
            return
        order = self.order_domain.OrderAggregate.reject(
            order_id=uuid4(),
            customer_id=customer_id or uuid4(),
            reason="unknown customer",
        )
        self.orders[order.id] = order
        self._commit(order, "order")

    @precondition(lambda self: self._open_orders())
    @rule(data=st.data())
    def cancel_order(self, data: st.DataObject) -> None:
        order = data.draw(st.sampled_from(self._open_orders()), label="order")
        order.cancel(reason="customer_request")
        self._commit(order, "order")

    @precondition(lambda self: self._pending_orders())
    @rule(data=st.data(), reserved=st.booleans())
    def answer_credit(self, data: st.DataObject, reserved: bool) -> None:
        """The credit saga: the customer service answers a pending order, and
        the order service approves or rejects it. The customer's answer is an
        event of its own that the read models pass over."""
        order = data.draw(st.sampled_from(self._pending_orders()), label="order")
        customer = self.customers.get(order.customer_id)
        if customer is not None and not customer.deleted:
            customer.reserve_credit(
                order_id=order.id,
                amount=order.total,
                limit=order.total if reserved else order.total - 1,
            )
            self._commit(customer, "customer")
        (order.approve if reserved else order.refuse_credit)()
        self._commit(order, "order")

    @precondition(lambda self: self._deleted_with_open_orders())
    @rule(data=st.data())
    def cancel_orders_of_deleted_customer(self, data: st.DataObject) -> None:
        customer_id = data.draw(
            st.sampled_from(self._deleted_with_open_orders()), label="customer"
        )
        for order in self._open_orders():
            if order.customer_id == customer_id:
                order.cancel(reason="customer_deleted")
                self._commit(order, "order")

    # The read side: deliveries to the consumer -----------------------------------

    def _deliver_first(self, aggregate_id: UUID) -> None:
        queue = self.pending[aggregate_id]
        envelope = queue.pop(0)
        if not queue:
            del self.pending[aggregate_id]
        outcome = self.project(envelope)
        assert outcome is Outcome.APPLIED, (
            f"{envelope.event_type} v{envelope.aggregate_version} of "
            f"{envelope.aggregate_id}, next in line, was {outcome}, not applied"
        )
        self.applied.append(envelope)

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def deliver_next(self, data: st.DataObject) -> None:
        # Newest aggregate first: the simplest choice is the one furthest
        # from commit order.
        self._deliver_first(
            data.draw(st.sampled_from(list(self.pending)[::-1]), label="aggregate")
        )

    def _deliver_to_no_effect(
        self, envelope: EventEnvelope, expected: Outcome, delivery: str
    ) -> None:
        """Deliver ``envelope``: the consumer decides ``expected``, changes nothing."""
        before = self.everything()
        outcome = self.project(envelope)
        assert outcome is expected, (
            f"{envelope.event_type} v{envelope.aggregate_version} of "
            f"{envelope.aggregate_id}, {delivery}, was {outcome}, not {expected}"
        )
        assert self.everything() == before, f"{delivery} changed the tables"
        event(delivery)

    def _deliver_early(self, envelope: EventEnvelope) -> None:
        """A later event of an aggregate before an earlier one: held, no effect."""
        self._deliver_to_no_effect(
            envelope, Outcome.HELD, "a later event delivered before an earlier one"
        )

    @precondition(lambda self: self.applied)
    @rule(data=st.data())
    def deliver_again(self, data: st.DataObject) -> None:
        envelope = data.draw(st.sampled_from(self.applied), label="duplicate")
        self._deliver_to_no_effect(envelope, Outcome.DUPLICATE, "a duplicate delivery")

    @precondition(lambda self: any(len(q) > 1 for q in self.pending.values()))
    @rule(data=st.data())
    def deliver_too_early(self, data: st.DataObject) -> None:
        aggregate_id = data.draw(
            st.sampled_from([a for a, q in self.pending.items() if len(q) > 1]),
            label="aggregate",
        )
        self._deliver_early(
            data.draw(st.sampled_from(self.pending[aggregate_id][1:]), label="early")
        )

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def catch_up(self, data: st.DataObject) -> None:
        """Deliver everything pending, aggregates interleaved, some too early first."""
        # Any interleaving of the aggregates' queues: one slot per message,
        # shuffled; each slot delivers the next message of its aggregate.
        slots = [aggregate_id for aggregate_id, q in self.pending.items() for _ in q]
        for aggregate_id in data.draw(st.permutations(slots), label="interleaving"):
            later = self.pending[aggregate_id][1:]
            if later and data.draw(st.booleans(), label="a later one first"):
                self._deliver_early(data.draw(st.sampled_from(later), label="early"))
            self._deliver_first(aggregate_id)

    def _rebuild(
        self, replay: Callable[[list[EventEnvelope]], list[Outcome]], rebuild: str
    ) -> None:
        """Empty the read side, ``replay`` the whole log in commit order: the
        same tables and the same tracking."""
        self.rebuilt_at = len(self.log)
        before = self.tables(leave_out=(*UNFOLDABLE_FIELDS, *STAMP_FIELDS))
        tracked_before = self.tracking()
        self.empty_read_side()
        assert not any(self.tables().values()), "the read side was not emptied"
        outcomes = replay(list(self.log))
        refused = [
            f"{envelope.event_type} {envelope.event_id}: {outcome}"
            for envelope, outcome in zip(self.log, outcomes, strict=True)
            if outcome is not Outcome.APPLIED
        ]
        assert not refused, f"{rebuild} did not apply every event: {refused}"
        self.applied = list(self.log)
        self.checked_at = None
        assert_same_tables(
            self.tables(leave_out=(*UNFOLDABLE_FIELDS, *STAMP_FIELDS)),
            before,
            f"{rebuild} did not give the same tables:",
        )
        assert self.tracking() == tracked_before, "the rebuilt tracking differs"
        event(rebuild)

    @precondition(lambda self: len(self.log) > self.rebuilt_at and not self.pending)
    @rule()
    def rebuild_from_the_log(self) -> None:
        """Empty the read side, replay the whole log event by event: same tables."""
        self._rebuild(
            lambda log: [self.project(envelope) for envelope in log],
            "a rebuild from the log",
        )

    # The property ----------------------------------------------------------------

    @invariant()
    def read_model_is_the_fold_of_the_events(self) -> None:
        if self.checked_at == len(self.applied):
            return
        self.checked_at = len(self.applied)
        actual = self.tables()
        assert_same_tables(
            actual,
            self.expected_tables(self.applied),
            "the read model is not the fold of the events applied so far:",
        )
        last_versions: dict[UUID, int] = {}
        for envelope in self.applied:
            last_versions[UUID(envelope.aggregate_id)] = envelope.aggregate_version
        assert self.tracking() == (
            {envelope.event_id for envelope in self.applied},
            last_versions,
        ), "the consumer's processed events or cursors are not what it applied"
        if self.pending:
            return
        # Caught up: every event of the write side is applied, so the read
        # model is the fold of the write side's log, in its own order.
        assert sorted(e.event_id for e in self.applied) == sorted(
            e.event_id for e in self.log
        )
        assert_same_tables(
            without(actual, STAMP_FIELDS),
            without(self.expected_tables(self.log), STAMP_FIELDS),
            "caught up, the read model is not the fold of the write side:",
        )
        event("caught up and checked against the write side")

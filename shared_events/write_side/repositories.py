"""Repositories: where an aggregate's recorded events go, per approach.

Domain services load an aggregate, call a command method, and ``save`` it.
They never know which repository they were given; the service's composition
root (``bootstrap.py``) decides:

- a *state table* repository (approaches 1 and 2) stores the current state
  and drops the events;
- a *direct publish* repository (approach 3) does the same, then publishes
  the events after commit: the dual write;
- an *event-sourced* repository (approaches 4 and 5) appends the events to
  the event store, refreshes a cached state row and writes the outbox, all in
  one transaction.
"""

from __future__ import annotations

import abc
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from django.db import connections, models, router, transaction

from shared_events.correlation import current_cause, current_correlation_id
from shared_events.event_keys import encode_signed
from shared_events.events import EventEnvelope, caused_by, new_envelope
from shared_events.telemetry.tracing import recording_event
from shared_events.write_side.aggregates import Aggregate, RecordedEvent
from shared_events.write_side.event_store import event_store_append, event_store_load

logger = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)


def envelopes_for(
    *, aggregate: Aggregate, events: Sequence[RecordedEvent], producer: str
) -> list[EventEnvelope]:
    """The envelopes of an aggregate's new events, each with its *create* span
    when tracing is on (``shared_events.telemetry.tracing.recording_event``).

    Inside a consumer's handler (a cause is set) an event continues its
    cause's story: same correlation id, the cause as causation, same trace.
    """
    cause = current_cause()
    correlation_id = current_correlation_id()
    envelopes = []
    for event in events:
        with recording_event(
            event_type=event.event_type,
            aggregate_type=aggregate.aggregate_type,
            aggregate_id=str(aggregate.id),
        ) as creation:
            fields = {
                "event_type": event.event_type,
                "schema_version": event.schema_version,
                "aggregate_type": aggregate.aggregate_type,
                "aggregate_id": str(aggregate.id),
                "aggregate_version": event.aggregate_version,
                "producer": producer,
                "payload": event.payload,
                "trace_context": creation.trace_context,
            }
            if cause is not None:
                envelope = caused_by(cause, **fields)
            else:
                envelope = new_envelope(**fields, correlation_id=correlation_id)
            creation.created(envelope)
        envelopes.append(envelope)
    return envelopes


@dataclass(frozen=True)
class Saved:
    """What ``Repository.save`` stored.

    ``row`` is the state row as written when the table hands it back whole
    (a new customer's row), so the service can answer with it instead of
    reading it again; None otherwise.
    """

    envelopes: list[EventEnvelope]
    row: Any = None


class Repository(abc.ABC, Generic[A]):
    @abc.abstractmethod
    def get(self, aggregate_id: UUID) -> A | None:
        """The aggregate, or None when it never existed."""

    @abc.abstractmethod
    def save(self, aggregate: A) -> Saved:
        """Persist the aggregate's pending events, in the caller's transaction."""

    def heal(self, aggregate_id: UUID, *, loaded_version: int) -> bool:
        """Bring a state row left behind its events up to them; True if it was.

        Only a store outside the state table's database can leave a row
        behind (``EVENT_STORE=dynamodb``): everywhere else the row and its
        events commit in one transaction, and there is nothing to heal.
        """
        return False


class StateTable(abc.ABC, Generic[A]):
    """A service's current-state table for one aggregate type."""

    @abc.abstractmethod
    def load(self, aggregate_id: UUID) -> A | None: ...

    @abc.abstractmethod
    def write(self, aggregate: A, *, expected_version: int) -> Any:
        """Store the aggregate's state; ConcurrencyConflict (409) when the row
        is no longer at expected_version.

        Returns the row as written when the write knows all of it (an
        insert), else None.
        """

    def keeps_row(self, aggregate: A) -> bool:
        """Whether the aggregate has a row in this state: a deleted customer,
        a rejected placement have none."""
        return True


def insert_state_row(row: models.Model) -> bool:
    """Insert a new aggregate's state row in one statement; False if its id is taken.

    Nothing asks first whether the row exists: a row already there under
    this id is one written outside the aggregate (the admin, a fixture), left
    alone here and updated like any other. Once inserted, ``row`` counts as
    saved, so the service can answer with it instead of reading it back.
    """
    model = type(row)
    meta = model._meta
    database = router.db_for_write(model)
    fields = meta.concrete_fields
    columns = ", ".join(field.column for field in fields)
    values = ", ".join(["%s"] * len(fields))
    with connections[database].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {meta.db_table} ({columns}) VALUES ({values})"
            f" ON CONFLICT ({meta.pk.column}) DO NOTHING",
            [getattr(row, field.attname) for field in fields],
        )
        if cursor.rowcount != 1:
            return False
    row._state.adding, row._state.db = False, database
    return True


class StateTableRepository(Repository[A]):
    """Approaches 1 and 2: current state in a table; events are dropped."""

    def __init__(self, *, table: StateTable[A], producer: str) -> None:
        self.table = table
        self.producer = producer

    def get(self, aggregate_id: UUID) -> A | None:
        return self.table.load(aggregate_id)

    def save(self, aggregate: A) -> Saved:
        expected_version = aggregate.original_version
        events = aggregate.collect_pending()
        row = self.table.write(aggregate, expected_version=expected_version)
        envelopes = envelopes_for(
            aggregate=aggregate, events=events, producer=self.producer
        )
        return Saved(envelopes=envelopes, row=row)


class FaultInjected(RuntimeError):
    pass


CRASH_BEFORE_PUBLISH = "crash_before_publish"
BROKER_REFUSES = "broker_refuses"
# Read by the AWS clients (shared_events.transport.throttle_injection), not here.
THROTTLE_AWS = "throttle_aws"
# Read by the web server (service_kit.api.slow_responses), not here.
SLOW_RESPONSES = "slow_responses"
# Read by the order service's credit check (order_service.orders.credit).
SLOW_CREDIT_CHECK = "slow_credit_check"
FAULT_KINDS = (
    CRASH_BEFORE_PUBLISH,
    BROKER_REFUSES,
    THROTTLE_AWS,
    SLOW_RESPONSES,
    SLOW_CREDIT_CHECK,
)
# Faults of another layer: their arguments are not event types.
OTHER_LAYERS = (THROTTLE_AWS, SLOW_RESPONSES, SLOW_CREDIT_CHECK)


@dataclass(frozen=True)
class Fault:
    """A fault to inject after commit, parsed from the FAULT_INJECTION setting.

    ``crash_before_publish`` or ``broker_refuses``, optionally limited to some
    event types: ``crash_before_publish:CustomerDeleted`` lets registrations
    through and kills the process only when a customer is deleted.

    ``throttle_aws:PutRecords,PutItem@0.1`` is a fault of the AWS clients
    (AWS answering "throttled"), injected where they are built; a repository
    has nothing to do for it, so its names (AWS operations, not event types)
    are left to ``shared_events.transport.throttle_injection``.
    ``slow_responses:<ms>[@share]`` is a fault of the web server (a service
    answering late), left to ``service_kit.api.slow_responses``.
    ``slow_credit_check:<ms>`` holds the order service's credit check open
    between its answer and the order's write, left to
    ``order_service.orders.credit``.
    """

    kind: str = ""
    event_types: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, value: str) -> Fault:
        kind, _, types = (value or "").strip().partition(":")
        if kind and kind not in FAULT_KINDS:
            kinds = ", ".join(FAULT_KINDS)
            raise ValueError(
                f"unknown FAULT_INJECTION {value!r}; use one of {kinds}, "
                "optionally followed by :EventType[,EventType] (throttle_aws: "
                ":Operation[,Operation][@rate]; slow_responses: :ms[@share]; "
                "slow_credit_check: :ms)"
            )
        if kind in OTHER_LAYERS:
            return cls(kind)
        return cls(kind, frozenset(filter(None, (t.strip() for t in types.split(",")))))

    def applies(self, kind: str, envelopes: Sequence[EventEnvelope]) -> bool:
        if self.kind != kind:
            return False
        return not self.event_types or any(
            envelope.event_type in self.event_types for envelope in envelopes
        )


def die_if_crash_injected(fault: Fault, envelopes: Sequence[EventEnvelope]) -> None:
    """The injected crash: the process dies right after its commit."""
    if fault.applies(CRASH_BEFORE_PUBLISH, envelopes):
        logger.error("fault injection: dying between commit and publish")
        logging.shutdown()
        os._exit(70)


class DirectPublishRepository(StateTableRepository[A]):
    """Approach 3: commit the state, THEN publish the events: a dual write.

    The two writes go to two systems, the database and the broker, with no
    transaction spanning both. If the process dies, or the broker refuses,
    after the commit and before the publish, the state has changed and the
    event is gone for good: no retry, no record that it ever should have
    been sent. That is the flaw this approach exists to show.

    ``fault`` (the ``FAULT_INJECTION`` setting) makes that happen on purpose:
    ``crash_before_publish`` kills the process right after the commit, and
    ``broker_refuses`` makes the publish fail.
    """

    def __init__(
        self,
        *,
        table: StateTable[A],
        producer: str,
        publish: Callable[[list[EventEnvelope]], None],
        fault: str = "",
    ) -> None:
        super().__init__(table=table, producer=producer)
        self.publish = publish
        self.fault = Fault.parse(fault)

    def save(self, aggregate: A) -> Saved:
        saved = super().save(aggregate)
        envelopes = saved.envelopes
        for envelope in envelopes:
            # Validate and sign now, even though nothing is stored: a bad
            # event, or a missing key, fails the request before its commit.
            encode_signed(envelope)
        transaction.on_commit(lambda: self._publish_after_commit(envelopes))
        return saved

    def _publish_after_commit(self, envelopes: list[EventEnvelope]) -> None:
        die_if_crash_injected(self.fault, envelopes)
        try:
            if self.fault.applies(BROKER_REFUSES, envelopes):
                raise FaultInjected("fault injection: the broker refused the event")
            self.publish(envelopes)
        except Exception:
            # The dual write's failure mode: the state is committed, the event
            # is lost, and all that is left is this log line.
            logger.exception(
                "direct publish failed after commit: %d events lost",
                len(envelopes),
            )


class EventSourcedRepository(Repository[A]):
    """Approaches 4 and 5: event store + cached state + outbox, one transaction.

    Loading folds the aggregate's events from the store. Saving appends the
    new events (optimistic concurrency on the expected version), refreshes
    the cached current-state row (rebuildable from the events), and writes
    an outbox row per event; after commit the relay is woken.

    The same injected crash that loses events in approach 3 loses nothing
    here: the events are committed in the outbox, and the relay's periodic
    sweep publishes them even though nobody woke it.
    """

    def __init__(
        self,
        *,
        aggregate_class: type[A],
        table: StateTable[A],
        producer: str,
        wake_relay: Callable[[], None],
        fault: str = "",
    ) -> None:
        self.aggregate_class = aggregate_class
        self.table = table
        self.producer = producer
        self.wake_relay = wake_relay
        self.fault = Fault.parse(fault)

    def get(self, aggregate_id: UUID) -> A | None:
        return self.aggregate_class.fold(
            aggregate_id, event_store_load(aggregate_id=aggregate_id)
        )

    def get_as_of(self, aggregate_id: UUID, version: int) -> A | None:
        return self.aggregate_class.fold(
            aggregate_id,
            event_store_load(aggregate_id=aggregate_id, up_to_version=version),
        )

    def save(self, aggregate: A) -> Saved:
        expected_version = aggregate.original_version
        events = aggregate.collect_pending()
        envelopes = envelopes_for(
            aggregate=aggregate, events=events, producer=self.producer
        )
        # The events and their outbox rows: one statement.
        event_store_append(
            envelopes=envelopes, expected_version=expected_version, outbox=True
        )
        row = self.table.write(aggregate, expected_version=expected_version)
        transaction.on_commit(lambda: self._after_commit(envelopes))
        return Saved(envelopes=envelopes, row=row)

    def _after_commit(self, envelopes: list[EventEnvelope]) -> None:
        die_if_crash_injected(self.fault, envelopes)
        self.wake_relay()

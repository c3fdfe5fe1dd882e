"""The write side: commands change aggregates, and their events are stored.

What a learner should notice in this stage:

* An aggregate (``aggregates``) records past-tense events from imperative
  command methods; its state is always the fold of its events.
* Where the events go is the repository's business (``repositories``),
  chosen by each service's composition root: dropped (approaches 1 and 2),
  published after commit, the dual write (3), or appended to the event store
  with an outbox row each, in one transaction (4 and 5).
* The event store (``event_store``) appends with optimistic concurrency: a
  stale writer gets ``ConcurrencyConflict`` (409) and its whole transaction,
  state and outbox rows included, rolls back (``transactions``).
* The outbox rows are queued here, in the writer's transaction
  (``outbox_queue``); relaying them is the next stage's job.
* Any past state is one fold away (``history``); nothing stores it.
* The paper's write store (``dynamodb``, ``EVENT_STORE=dynamodb``): one
  conditional DynamoDB item per commit, whose stream is the outbox.

Depends on ``events`` only.
"""

from shared_events.write_side.aggregates import Aggregate, RecordedEvent
from shared_events.write_side.errors import (
    ConcurrencyConflict,
    EventStoreUnavailable,
    HistoryNotKept,
    NotRecorded,
    VersionNotRecorded,
)
from shared_events.write_side.event_store import (
    event_store_append,
    event_store_history,
    event_store_load,
)
from shared_events.write_side.history import (
    AggregateHistory,
    EventStoreHistory,
    NoHistory,
    state_only_reason,
)
from shared_events.write_side.outbox_queue import outbox_append, outbox_insert
from shared_events.write_side.repositories import (
    DirectPublishRepository,
    EventSourcedRepository,
    Repository,
    Saved,
    StateTable,
    StateTableRepository,
    envelopes_for,
    insert_state_row,
)
from shared_events.write_side.transactions import (
    refuse_stale_write,
    refuse_transaction,
)

__all__ = [
    "Aggregate",
    "AggregateHistory",
    "ConcurrencyConflict",
    "DirectPublishRepository",
    "EventStoreUnavailable",
    "EventSourcedRepository",
    "EventStoreHistory",
    "HistoryNotKept",
    "NoHistory",
    "NotRecorded",
    "RecordedEvent",
    "Repository",
    "Saved",
    "StateTable",
    "StateTableRepository",
    "VersionNotRecorded",
    "envelopes_for",
    "event_store_append",
    "event_store_history",
    "event_store_load",
    "insert_state_row",
    "outbox_append",
    "outbox_insert",
    "refuse_stale_write",
    "refuse_transaction",
    "state_only_reason",
]

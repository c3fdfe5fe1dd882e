"""The paper's write store: an event-sourced service's events in DynamoDB.

Chosen by ``EVENT_STORE=dynamodb`` under approaches 4 and 5, in place of
PostgreSQL's ``event_store`` table and its outbox. What a learner should
notice in this package:

* One commit is one item (``commits``), written with one conditional
  ``PutItem`` (``table``): the item's sort key is the commit's first
  version, so a stale writer asks for a key that is taken and gets
  ``ConcurrencyConflict`` (409), exactly as with PostgreSQL.
* The table's stream is the outbox: each commit's new image carries its
  envelopes, and a handler on the stream publishes them
  (``shared_events.outbox.stream_relay``). No outbox rows, no relay.
* The state row stays in PostgreSQL (queries, unique indexes), written
  first in the request's transaction; a crash between the commit and the
  PostgreSQL commit leaves it behind the events, and the next save heals it
  (``repository``).
* The history API reads the same data from the table (``history``).
* The table is created idempotently, with its stream (``provisioning``).

Plain boto3 besides the write side's own modules: the composition root
builds the client.
"""

from shared_events.write_side.dynamodb.commits import (
    COMMIT_CONDITION,
    Commit,
    commit_of,
    from_item,
    to_item,
)
from shared_events.write_side.dynamodb.history import DynamoDBEventStoreHistory
from shared_events.write_side.dynamodb.provisioning import (
    STREAM_VIEW_TYPE,
    EventTableMismatch,
    ensure_event_table,
)
from shared_events.write_side.dynamodb.repository import (
    DynamoDBEventSourcedRepository,
)
from shared_events.write_side.dynamodb.table import EventTable

__all__ = [
    "COMMIT_CONDITION",
    "STREAM_VIEW_TYPE",
    "Commit",
    "DynamoDBEventSourcedRepository",
    "DynamoDBEventStoreHistory",
    "EventTable",
    "EventTableMismatch",
    "commit_of",
    "ensure_event_table",
    "from_item",
    "to_item",
]

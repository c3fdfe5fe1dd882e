"""The outbox: what the write side queued reaches the broker, at least once.

What a learner should notice in this stage:

* The relay (``relay``) claims *unpublished* rows, never "rows after the last
  id I saw" (a late commit can hold a lower id), with ``FOR UPDATE SKIP
  LOCKED``, so several relays run at once without waiting for each other
  (``store``).
* It marks published only the entries the broker accepted, and retries the
  rest with a capped backoff: an event may be published twice, never lost.
* A relay worker wakes the moment a row commits, through PostgreSQL
  ``LISTEN``/``NOTIFY`` (``listener``); a periodic sweep is the guarantee
  behind the wake-up.
* Under ``EVENT_STORE=dynamodb`` the event table's stream is the outbox:
  ``stream_relay.publish_committed`` (a Lambda function's core) publishes
  each commit, stopping at the first record not wholly accepted.

The rows are written by the write side (``write_side.outbox_queue``); the
relay publishes through the transport's publisher port. Depends on
``transport`` (and the ``models``), and ``telemetry`` (what it relayed is
counted).
"""

from shared_events.outbox.listener import CHANNEL, OutboxListener, start_listener
from shared_events.outbox.relay import (
    MAX_BACKOFF_SECONDS,
    RelayResult,
    backoff_seconds,
    relay_batch,
    relay_outbox,
)
from shared_events.outbox.store import (
    outbox_claim_due,
    outbox_mark_failed,
    outbox_mark_published,
    outbox_pending_count,
    outbox_prune,
)
from shared_events.outbox.stream_relay import publish_committed

__all__ = [
    "CHANNEL",
    "MAX_BACKOFF_SECONDS",
    "OutboxListener",
    "RelayResult",
    "backoff_seconds",
    "outbox_claim_due",
    "outbox_mark_failed",
    "outbox_mark_published",
    "outbox_pending_count",
    "outbox_prune",
    "publish_committed",
    "relay_batch",
    "relay_outbox",
    "start_listener",
]

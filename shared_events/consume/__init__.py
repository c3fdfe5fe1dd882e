"""Consume: apply each event exactly once, in order, whatever the broker does.

What a learner should notice in this stage:

* ``apply_event`` (``tracking``) is the whole guarantee: the effect, the
  processed-event record and the aggregate's cursor commit in ONE
  transaction. A redelivered event is a ``DUPLICATE``, an event ahead of its
  aggregate is ``HELD``; delivery is at least once, effects exactly once.
* The SQS consumer (``consumer``) only feeds it: it long-polls the inbox,
  deletes a message after its commit, retries a failure with backoff and
  dead-letters it, with the reason, on its last allowed receive. An event
  ahead of its aggregate is parked in the consumer's database and released
  when the gap closes (``held_events``, the resequencer).
* On a read database (approach 5) the same core runs projections, under the
  guards of ``projection_guard``: the permit to write read models and the
  read-model swap lock a rebuild's switch waits for.
* A Lambda handler (``lambda_handler``, behind each service's
  ``functions/`` modules) feeds the same core from AWS's event documents (SQS,
  Kinesis, DynamoDB Streams) and answers ``batchItemFailures``; the event
  source mapping retries what failed. What is poison, and how a dead letter
  looks, is decided once for both (``dead_letter``): that includes every
  event that is not signed by a trusted key of the service owning its
  aggregate (``shared_events.event_keys``).

Depends on ``events``, ``event_keys``, ``transport`` (the consumer's
settings) and ``telemetry`` (each outcome is counted).
"""

from shared_events.consume.consumer import (
    ConsumerStats,
    EventConsumer,
    InfrastructureDown,
    retry_delay,
)
from shared_events.consume.dead_letter import (
    poison_reason,
    read_event,
    send_dead_letter,
)
from shared_events.consume.lambda_handler import process_batch, source_of
from shared_events.consume.projection_guard import (
    SWAP_LOCK,
    hold_read_model_swap_lock,
    projecting,
    projection_database,
)
from shared_events.consume.tracking import (
    Handler,
    Outcome,
    apply_event,
    cursor_standing,
)

__all__ = [
    "SWAP_LOCK",
    "ConsumerStats",
    "EventConsumer",
    "Handler",
    "InfrastructureDown",
    "Outcome",
    "apply_event",
    "cursor_standing",
    "hold_read_model_swap_lock",
    "poison_reason",
    "process_batch",
    "projecting",
    "projection_database",
    "read_event",
    "retry_delay",
    "send_dead_letter",
    "source_of",
]

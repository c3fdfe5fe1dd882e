"""The customer service's Lambda entry points, deployable as-is.

Each module is a plain ``handler(event, context)`` that AWS Lambda (or the
platform's local event source mapping runner) calls with AWS's own event
document, built by ``shared_events.functions.lambda_entry``. What a learner
should notice: a function module holds no logic of its own. It starts Django
with the service's settings, and each call hands the records to the same
core the long-running processes use (the idempotent consumer core, or the
outbox's publisher), so an event is applied exactly once whichever way it
arrives. Which module reads which source is ``shared_events.functions``.

* ``consume_events``: its consumer of order events (it records each, in
  order; it reacts to none yet).
* ``project_events``: the read side's projector into the read database
  (approach 5, cqrs_es, only).
* ``publish_committed``: under ``EVENT_STORE=dynamodb``, the event table's
  stream as the outbox: each commit's events published, in order.
"""

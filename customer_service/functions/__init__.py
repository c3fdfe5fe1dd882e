"""The customer service's Lambda entry points, deployable as-is.

Each module is a plain ``handler(event, context)`` that AWS Lambda (or the
platform's local event source mapping runner) calls with AWS's own event
document. What a learner should notice: a function module holds no logic of
its own. It starts Django with the service's settings, asks the composition
root (``customer_service.wiring``) for the handlers it runs, and hands each
record to the same idempotent core as the long-running SQS consumer
(``shared_events.consume.lambda_handler``), so an event is applied exactly
once whichever way it arrives.

* ``consume_events``: the customer service's consumer of order events (it
  reacts to none yet, but tracks each one, in order).
* ``project_events``: the read side's projector into the read database
  (approach 5, cqrs_es, only).
"""

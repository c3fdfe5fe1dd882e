"""The local event source mapping runner: Lambda's pollers, run by the platform.

Lambda handlers (``handler(event, context)``) are fed by event source
mappings: SQS queues, Kinesis streams and DynamoDB streams, polled in batches.
moto cannot run handler code without Docker and its own mappings do not
behave like AWS's, so locally this stage polls moto itself and calls the same
handler modules in-process; on AWS, Lambda does it from the same table::

    from shared_events.event_source_mapping import (
        EventSourceMapping, MappingRunner, SourceKind, resolve_mapping,
    )

What a learner should notice in this stage:

* A mapping is data (``mappings``) with AWS's property names, defaults and
  limits, so the local runner and the deployed ``AWS::Lambda::EventSourceMapping``
  resources are built from one table.
* The handler receives AWS's own event documents (``sqs_source``,
  ``kinesis_source``, ``dynamodb_stream_source``) and answers
  ``batchItemFailures``; nothing in it knows it runs locally.
* AWS's delivery rules, one module each: batch size and batching window, one
  batch in flight per shard (order), bisecting a failing batch, bounded
  retries, partial batch responses, the on-failure destination's invocation
  record (``stream_poller``, ``queue_poller``, ``on_failure``).
* Delivery is at least once: a checkpoint per (mapping, shard), written
  atomically after a batch is done (``checkpoints``), so a runner killed
  mid-batch hands that batch over again. Handlers are idempotent.
* Never ``CreateEventSourceMapping`` on moto: a test proves none is created.

Plain Python and boto3 (``transport.clients``); only the management command
``run_event_source_mappings`` reads Django settings. Depends on ``transport``
and ``telemetry`` (each checkpoint's lag is a metric).
"""

from shared_events.event_source_mapping.checkpoints import CheckpointStore
from shared_events.event_source_mapping.invocation import (
    Invocation,
    LambdaContext,
    Outcome,
    read_response,
)
from shared_events.event_source_mapping.mappings import (
    REPORT_BATCH_ITEM_FAILURES,
    EventSourceMapping,
    InvalidMapping,
    SourceKind,
    StartingPosition,
)
from shared_events.event_source_mapping.on_failure import invocation_record
from shared_events.event_source_mapping.resolve import (
    Handler,
    ResolvedSource,
    RunnableMapping,
    SourceNotFound,
    load_handler,
    resolve_mapping,
)
from shared_events.event_source_mapping.runner import MappingRunner
from shared_events.event_source_mapping.runtime import RunnerStats

__all__ = [
    "REPORT_BATCH_ITEM_FAILURES",
    "CheckpointStore",
    "EventSourceMapping",
    "Handler",
    "InvalidMapping",
    "Invocation",
    "LambdaContext",
    "MappingRunner",
    "Outcome",
    "ResolvedSource",
    "RunnableMapping",
    "RunnerStats",
    "SourceKind",
    "SourceNotFound",
    "StartingPosition",
    "invocation_record",
    "load_handler",
    "read_response",
    "resolve_mapping",
]

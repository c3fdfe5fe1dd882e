"""The boxes of a diagram: processes, databases, channels and event stores.

Each function reads one of the platform's tables and adds its boxes to a
``Drawing`` (``cockpit.diagrams`` calls them in turn, then the arrows):

- ``process_box``: one per process of the process table, in the column of
  its pipeline stage (a ``functions`` process that publishes the DynamoDB
  event table's stream stands where a relay would);
- ``database_boxes``: a write database per web server's service (the ONE
  shared database of approach 1) and a read database per query server's;
- ``channel_boxes``: the topology's topics or streams, inboxes and
  dead-letter queues;
- ``event_store_boxes``: each relay's outbox, and each DynamoDB event table
  with its stream, read by a Lambda mapping.

Each box declares the live numbers it shows (``metrics``); a learner sees
that a queue has a depth, an outbox a backlog, a consumer a lag.
"""

from __future__ import annotations

from cockpit.arrows import handler_name
from cockpit.model import (
    BROKER,
    COMMAND,
    CONSUMERS,
    GATEWAY,
    QUERY,
    QUEUES,
    READ,
    RELAY,
    WRITE_STORE,
    Box,
    BoxKind,
    Drawing,
    database_box_id,
    outbox_box_id,
    read_database_box_id,
    table_stream_box_id,
)
from shared_events.approaches import ApproachInfo
from shared_events.configuration import (
    JOINING_DATABASE_NAMES,
    READ_DATABASE_NAMES,
    SERVICE_DATABASE_NAMES,
    SHARED_DATABASE_NAME,
)
from shared_events.event_source_mapping import EventSourceMapping, SourceKind
from shared_events.transport.topology import Topology
from stack.process_table import Kind, PlatformProcess

PROCESS_COLUMNS: dict[Kind, int] = {
    Kind.GATEWAY: GATEWAY,
    Kind.WEB: COMMAND,
    Kind.RELAY: RELAY,
    Kind.CONSUMER: CONSUMERS,
    Kind.PROJECTOR: CONSUMERS,
    Kind.FUNCTIONS: CONSUMERS,
    Kind.QUERY: QUERY,
}
PROCESS_METRICS: dict[Kind, tuple[str, ...]] = {
    Kind.WEB: ("requests",),
    Kind.QUERY: ("requests",),
    Kind.CONSUMER: ("consumer_lag", "parked_events"),
    Kind.PROJECTOR: ("consumer_lag", "parked_events"),
    Kind.FUNCTIONS: ("consumer_lag",),
}
APPLYING_HANDLERS = {"consume_events", "project_events"}


def database_boxes(
    drawing: Drawing, info: ApproachInfo, processes: list[PlatformProcess]
) -> None:
    """One write database per web server's service (the shared one for every
    service of approach 1) and a read database per query server's."""
    names = {**SERVICE_DATABASE_NAMES, **JOINING_DATABASE_NAMES}
    for process in processes:
        service = process.service or ""
        if process.kind is Kind.WEB:
            shared = info.shares_database and service in SERVICE_DATABASE_NAMES
            owner = "" if shared else service
            drawing.add(
                Box(
                    id=database_box_id(owner),
                    kind=BoxKind.DATABASE,
                    label=SHARED_DATABASE_NAME
                    if shared
                    else names.get(service, f"{service}_service"),
                    column=WRITE_STORE,
                    owner=owner,
                    service=owner,
                    note="the one PostgreSQL database both services use"
                    if shared
                    else f"the {service} service's own PostgreSQL database",
                )
            )
        elif process.kind is Kind.QUERY:
            drawing.add(
                Box(
                    id=read_database_box_id(service),
                    kind=BoxKind.DATABASE,
                    label=READ_DATABASE_NAMES.get(service, f"{service}_read"),
                    column=READ,
                    owner=service,
                    service=service,
                    metrics=("read_model_staleness",),
                    note=f"the {service} service's read models (CQRS)",
                )
            )


def process_box(process: PlatformProcess, mappings: list[EventSourceMapping]) -> Box:
    column = PROCESS_COLUMNS[process.kind]
    metrics = PROCESS_METRICS.get(process.kind, ())
    if process.kind is Kind.FUNCTIONS:
        handlers = {handler_name(mapping) for mapping in mappings}
        # Publishing the event table's stream is the relay's stage.
        if "publish_committed" in handlers:
            column = RELAY
        if not handlers & APPLYING_HANDLERS:
            metrics = ()
    return Box(
        id=process.name,
        kind=BoxKind(process.kind.value),
        label=process.name,
        column=column,
        owner=process.service or "",
        service=process.service or "",
        metrics=metrics,
        note=process.what,
    )


def channel_boxes(drawing: Drawing, topology: Topology) -> None:
    """Topics or streams per producer; an inbox (not under Kinesis) and a
    dead-letter queue per consumer."""
    for producer in topology.producers:
        if topology.delivery == "sqs":
            continue
        stream = topology.delivery == "kinesis"
        drawing.add(
            Box(
                id=topology.stream_name(producer)
                if stream
                else topology.topic_name(producer),
                kind=BoxKind.STREAM if stream else BoxKind.TOPIC,
                label=topology.stream_name(producer)
                if stream
                else topology.topic_name(producer),
                column=BROKER,
                owner=producer,
                service=producer,
                metrics=("stream_backlog",) if stream else (),
                note=f"the {producer} service's events "
                f"({'Kinesis stream' if stream else 'SNS topic'})",
            )
        )
    for consumer in topology.consumers:
        service = consumer.removesuffix("-read")
        inbox = topology.queue_name(consumer)
        dead_letters = topology.dead_letter_queue_name(consumer)
        if topology.delivery != "kinesis":
            drawing.add(
                Box(
                    id=inbox,
                    kind=BoxKind.QUEUE,
                    label=inbox,
                    column=QUEUES,
                    owner=consumer,
                    service=service,
                    metrics=("queue_depth",),
                    note=f"the {consumer} consumer's SQS inbox",
                )
            )
        drawing.add(
            Box(
                id=dead_letters,
                kind=BoxKind.DLQ,
                label=dead_letters,
                column=QUEUES,
                owner=consumer,
                service=service,
                metrics=("dlq_depth",),
                note=f"what the {consumer} consumer could not apply, with why",
            )
        )
        drawing.arrow(
            inbox, dead_letters, f"redrive after {topology.max_receive_count} tries"
        )
    if topology.delivery == "sns":
        for producer in topology.producers:
            for consumer in topology.subscribers_of(producer):
                drawing.arrow(
                    topology.topic_name(producer),
                    topology.queue_name(consumer),
                    "fan out",
                )


def event_store_boxes(
    drawing: Drawing,
    processes: list[PlatformProcess],
    mappings: dict[str, list[EventSourceMapping]],
) -> None:
    """The outbox of each relay's service; the DynamoDB event table and its
    stream read by a ``functions`` process (the stream is the outbox)."""
    for process in processes:
        service = process.service or ""
        if process.kind is Kind.RELAY:
            drawing.add(
                Box(
                    id=outbox_box_id(service),
                    kind=BoxKind.TABLE,
                    label=f"{service} event_outbox",
                    column=WRITE_STORE,
                    owner=service,
                    service=service,
                    metrics=("outbox_backlog",),
                    note=f"the {service} service's transactional outbox: "
                    "committed with the events, in its database",
                )
            )
        for mapping in mappings.get(process.name, []):
            if mapping.source_kind is not SourceKind.DYNAMODB_STREAM:
                continue
            table = mapping.source_name
            drawing.add(
                Box(
                    id=table,
                    kind=BoxKind.TABLE,
                    label=table,
                    column=WRITE_STORE,
                    owner=service,
                    service=service,
                    note=f"the {service} service's DynamoDB event table",
                )
            )
            drawing.add(
                Box(
                    id=table_stream_box_id(table),
                    kind=BoxKind.STREAM,
                    label=f"{table} stream",
                    column=RELAY,
                    owner=service,
                    service=service,
                    metrics=("stream_backlog",),
                    note="the event table's DynamoDB stream: the outbox",
                )
            )

"""The arrows of a diagram: who calls, writes, publishes, polls and applies.

Each function adds one family of arrows to a ``Drawing`` whose boxes are
already there (``cockpit.diagrams``), reading the same tables the boxes came
from. An arrow goes from the one who acts to what it acts on: a relay
*polls* the outbox and *publishes* to the topic, a consumer *polls* its
inbox and *applies* the events to its database.
"""

from __future__ import annotations

from cockpit.model import (
    Drawing,
    database_box_id,
    outbox_box_id,
    read_database_box_id,
    table_stream_box_id,
)
from shared_events.approaches import ApproachInfo, CustomerLookup, Persistence
from shared_events.event_source_mapping import EventSourceMapping, SourceKind
from shared_events.transport.topology import Topology
from stack.process_table import Kind, PlatformProcess


def destinations(topology: Topology, producer: str) -> list[tuple[str, str]]:
    """Where ``producer``'s events go, and the act: a topic (SNS), a stream
    (Kinesis), or every subscriber's inbox, one send each (plain SQS)."""
    if topology.delivery == "sns":
        return [(topology.topic_name(producer), "publish")]
    if topology.delivery == "kinesis":
        return [(topology.stream_name(producer), "put records")]
    return [
        (topology.queue_name(consumer), "send")
        for consumer in topology.subscribers_of(producer)
    ]


def own_database(drawing: Drawing, service: str) -> str:
    """The box of ``service``'s write database: its own, or the shared one."""
    own = database_box_id(service)
    return own if own in drawing.boxes else database_box_id("")


def request_arrows(
    drawing: Drawing, info: ApproachInfo, processes: list[PlatformProcess]
) -> None:
    """The synchronous side: the gateway's routes, each web server's writes,
    approach 1's read of the other service's table, approach 2's REST call,
    and the query servers' reads of their read models."""
    for process in processes:
        service = process.service or ""
        if process.kind is Kind.GATEWAY:
            for routed in processes:
                if routed.serves_http:
                    drawing.arrow(process.name, routed.name, "routes")
        elif process.kind is Kind.WEB:
            label = "writes"
            if info.customer_lookup is CustomerLookup.SHARED_TABLE and (
                service == "order"
            ):
                label = "writes, reads customer table"
            drawing.arrow(process.name, own_database(drawing, service), label)
            if info.asks_customer_service and service == "order":
                drawing.arrow(process.name, "customer-web", "REST call")
        elif process.kind is Kind.QUERY:
            drawing.arrow(process.name, read_database_box_id(service), "reads table")


def write_path_arrows(
    drawing: Drawing,
    info: ApproachInfo,
    processes: list[PlatformProcess],
    topology: Topology,
) -> None:
    """How a committed change leaves its service: published straight from the
    web server (approach 3's dual write), through the outbox and its relay
    (approaches 4 and 5), or through the DynamoDB event table's stream."""
    for process in processes:
        service = process.service or ""
        if process.kind is Kind.WEB and service in ("customer", "order"):
            persistence = info.persistence(service)
            if persistence is Persistence.DIRECT_PUBLISH:
                for target, act in destinations(topology, service):
                    drawing.arrow(process.name, target, f"{act} after commit")
            elif persistence is Persistence.EVENT_SOURCED:
                table = topology.event_table_name(service)
                drawing.arrow(process.name, outbox_box_id(service), "appends")
                drawing.arrow(process.name, table, "conditional put")
                drawing.arrow(table, table_stream_box_id(table), "streams commits")
        elif process.kind is Kind.RELAY:
            drawing.arrow(process.name, outbox_box_id(service), "poll")
            for target, act in destinations(topology, service):
                drawing.arrow(process.name, target, act)


def consumer_arrows(
    drawing: Drawing, processes: list[PlatformProcess], topology: Topology
) -> None:
    """Long-polling consumers and projectors: each polls its inbox and applies
    what it receives (a projector into its service's read database)."""
    for process in processes:
        service = process.service or ""
        if process.kind is Kind.CONSUMER:
            drawing.arrow(process.name, topology.queue_name(service), "poll")
            drawing.arrow(process.name, own_database(drawing, service), "applies")
        elif process.kind is Kind.PROJECTOR:
            drawing.arrow(process.name, topology.queue_name(f"{service}-read"), "poll")
            drawing.arrow(process.name, read_database_box_id(service), "projects")


def function_arrows(
    drawing: Drawing,
    process: PlatformProcess,
    mappings: list[EventSourceMapping],
    topology: Topology,
) -> None:
    """A ``functions`` process: each mapping polls its stream and hands the
    records to one handler, which applies, projects or publishes them; a
    record that keeps failing goes to the on-failure queue."""
    service = process.service or ""
    for mapping in mappings:
        source = mapping.source_name
        if mapping.source_kind is SourceKind.DYNAMODB_STREAM:
            source = table_stream_box_id(source)
        drawing.arrow(process.name, source, "poll")
        function = handler_name(mapping)
        if function == "consume_events":
            drawing.arrow(process.name, own_database(drawing, service), "applies")
        elif function == "project_events":
            drawing.arrow(process.name, read_database_box_id(service), "projects")
        elif function == "publish_committed":
            for target, act in destinations(topology, service):
                drawing.arrow(process.name, target, act)
        if mapping.on_failure_queue:
            drawing.arrow(process.name, mapping.on_failure_queue, "on failure")


def handler_name(mapping: EventSourceMapping) -> str:
    """``consume_events``, ``project_events`` or ``publish_committed``: the
    module of ``<service>_service.functions.<module>.handler``."""
    return mapping.function.rsplit(".", 2)[-2]

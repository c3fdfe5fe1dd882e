"""Each approach's architecture, drawn from the platform's own tables.

Nothing here is a picture drawn by hand: every box and every arrow follows
from the tables the running platform itself starts from, so the drawing a
learner sees cannot drift from what runs:

- the process table (``stack.process_table.platform_processes``): one box
  per process (web and query servers, relays, consumers, projectors, the
  local event source mapping runner, the gateway);
- the approach table (``shared_events.approaches``): the databases (ONE
  shared database under approach 1, one per service after it, the read
  databases of approach 5), who publishes straight from the web server
  (approach 3's dual write) and who asks whom over REST (approach 2);
- the messaging topology (``shared_events.transport.topology``): the SNS
  topics or Kinesis streams, each consumer's SQS inbox and dead-letter queue;
- the Lambda mappings (``shared_events.functions``): which stream each
  ``functions`` process reads, and what its handlers do with the records
  (the DynamoDB event table's stream as the outbox, Kinesis as the broker).

What a learner should notice: columns follow the pipeline an event travels
(``cockpit.model.STAGES``), so the approaches read left to right, and the
boxes each approach adds show where its extra cost lies. The names are the
topology's without a prefix: a running platform's are the same plus its
``EVENT_TOPOLOGY_PREFIX``.
"""

from __future__ import annotations

from dataclasses import replace

from cockpit.arrows import (
    consumer_arrows,
    function_arrows,
    request_arrows,
    write_path_arrows,
)
from cockpit.boxes import (
    channel_boxes,
    database_boxes,
    event_store_boxes,
    process_box,
)
from cockpit.model import Box, Diagram, Drawing
from shared_events.approaches import Approach, ApproachInfo, approach_info
from shared_events.functions import platform_mappings
from shared_events.transport.topology import platform_topology
from stack.process_table import Kind, platform_processes


def architecture(
    approach: Approach | str, *, delivery: str = "sns", store: str = "postgres"
) -> Diagram:
    """The diagram of ``approach`` with these backends (``EVENT_DELIVERY``,
    ``EVENT_STORE``): boxes in pipeline columns, arrows labelled."""
    info = approach_info(approach)
    processes = platform_processes(info.approach, delivery=delivery, store=store)
    topology = platform_topology(delivery=delivery, read_side=info.read_side)
    mappings = {
        process.name: platform_mappings(
            service=process.service or "",
            approach=info,
            delivery=delivery,
            store=store,
            topology=topology,
            retries=1,
        )
        for process in processes
        if process.kind is Kind.FUNCTIONS
    }
    drawing = Drawing()
    database_boxes(drawing, info, processes)
    for process in processes:
        drawing.add(process_box(process, mappings.get(process.name, [])))
    if info.uses_events:
        channel_boxes(drawing, topology)
        event_store_boxes(drawing, processes, mappings)
    request_arrows(drawing, info, processes)
    write_path_arrows(drawing, info, processes, topology)
    consumer_arrows(drawing, processes, topology)
    for process in processes:
        function_arrows(drawing, process, mappings.get(process.name, []), topology)
    boxes = _rows(list(drawing.boxes.values()))
    return Diagram(
        approach=info.approach.value,
        delivery=delivery,
        store=store,
        title=f"{info.label}, EVENT_DELIVERY={delivery}, EVENT_STORE={store}",
        description=_description(info, boxes),
        boxes=tuple(boxes),
        arrows=tuple(drawing.arrows),
    )


def _rows(boxes: list[Box]) -> list[Box]:
    """Each column's boxes top to bottom: the gateway and shared things first,
    then the services in the tables' order, each service's boxes together."""
    services = list(dict.fromkeys(box.service for box in boxes if box.service))
    rank = {service: number + 1 for number, service in enumerate(services)}
    order = {box.id: number for number, box in enumerate(boxes)}
    placed: list[Box] = []
    for column in sorted({box.column for box in boxes}):
        ordered = sorted(
            (box for box in boxes if box.column == column),
            key=lambda box: (rank.get(box.service, 0), order[box.id]),
        )
        placed += [_at_row(box, row) for row, box in enumerate(ordered)]
    return placed


def _at_row(box: Box, row: int) -> Box:
    return replace(box, row=row)


def _description(info: ApproachInfo, boxes: list[Box]) -> str:
    counts: dict[str, int] = {}
    for box in boxes:
        counts[box.kind.value] = counts.get(box.kind.value, 0) + 1
    inventory = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    return (
        f"Approach {info.number} of 5, {info.title}. The customer service "
        f"{info.customer_service_role}. The order service "
        f"{info.order_service_role}. The flaw it shows: {info.flaw}. "
        f"Boxes: {inventory}."
    )

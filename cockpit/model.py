"""What a diagram is made of: boxes in pipeline columns, and labelled arrows.

Plain data, no drawing: ``cockpit.diagrams`` derives it from the platform's
tables, ``cockpit.svg`` draws it and ``cockpit.live_numbers`` fills the
metric slots each box declares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class BoxKind(StrEnum):
    WEB = "web"
    QUERY = "query"
    RELAY = "relay"
    CONSUMER = "consumer"
    PROJECTOR = "projector"
    FUNCTIONS = "functions"
    GATEWAY = "gateway"
    DATABASE = "database"
    TOPIC = "topic"
    QUEUE = "queue"
    STREAM = "stream"
    DLQ = "dlq"
    TABLE = "table"


#: The pipeline stages, left to right: a box's column is its stage's index.
STAGES = (
    "gateway",
    "command side",
    "write store",
    "relay",
    "broker",
    "queues",
    "consumers",
    "read store",
    "query side",
)
GATEWAY, COMMAND, WRITE_STORE, RELAY, BROKER, QUEUES, CONSUMERS, READ, QUERY = range(
    len(STAGES)
)

#: The live numbers a box can show, each with the words a learner reads.
METRIC_LABELS: dict[str, str] = {
    "requests": "requests",
    "outbox_backlog": "unpublished",
    "queue_depth": "in queue",
    "dlq_depth": "dead letters",
    "stream_backlog": "unread",
    "consumer_lag": "lag p95 ms",
    "parked_events": "parked",
    "read_model_staleness": "stale s",
}


@dataclass(frozen=True)
class Box:
    """One thing that runs or holds events: a process, a store or a channel.

    ``owner`` is what the box stands for in the tables: the service of a
    process or a database ("" for the gateway and the shared database), the
    producer of a topic or stream, the consumer of a queue ("customer-read").
    ``service`` is the lane it is drawn in ("" above the services).
    """

    id: str
    kind: BoxKind
    label: str
    column: int
    row: int = 0
    owner: str = ""
    service: str = ""
    metrics: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Arrow:
    """From the one who acts to what it acts on; ``label`` names the act."""

    source: str
    target: str
    label: str


@dataclass(frozen=True)
class Diagram:
    approach: str
    delivery: str
    store: str
    title: str
    description: str
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]

    def box(self, box_id: str) -> Box:
        return next(box for box in self.boxes if box.id == box_id)

    def of_kind(self, kind: BoxKind | str) -> list[Box]:
        return [box for box in self.boxes if box.kind == kind]


@dataclass
class Drawing:
    """The boxes and arrows being derived. An arrow to a box the tables do
    not have is left out: a ``Diagram`` never points at nothing."""

    boxes: dict[str, Box] = field(default_factory=dict)
    arrows: list[Arrow] = field(default_factory=list)

    def add(self, box: Box) -> None:
        self.boxes.setdefault(box.id, box)

    def arrow(self, source: str, target: str, label: str) -> None:
        if source in self.boxes and target in self.boxes:
            arrow = Arrow(source, target, label)
            if arrow not in self.arrows:
                self.arrows.append(arrow)


def database_box_id(owner: str) -> str:
    """A service's write database; ``""``: the one shared database."""
    return f"{owner or 'shared'}-database"


def read_database_box_id(service: str) -> str:
    return f"{service}-read-database"


def outbox_box_id(service: str) -> str:
    return f"{service}-outbox"


def table_stream_box_id(table: str) -> str:
    return f"{table}-stream"

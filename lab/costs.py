"""What CQRS costs: each platform's infrastructure and code, measured as it runs.

After a platform's scenarios, while it still runs, the lab measures what it
took (``observe.footprint``): the processes it started and their resident
memory, its databases and their size, the queues, topics, streams and tables
of its local AWS. Next to that, the code it activates (``observe.code_stages``:
the core every approach runs plus the stages its process table and its
composition roots need), and the processes its process table lists for a
full deployment (``manage.py up`` also runs the query web servers and the
gateway, which the lab does without: it reads the query API from the web
servers).

What a learner should notice: each approach fixes the last one's flaw and
pays for it here, and approach 5 pays the most: more processes, two more
databases, more queues, more code.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.backends import Backend
from observe.code_stages import CodeFootprint, code_footprint, lines_by_stage
from observe.footprint import PlatformFootprint, measure_footprint
from stack.platform_run import PlatformRun
from stack.process_table import platform_processes

MIB = 1024 * 1024


@dataclass(frozen=True)
class PlatformCost:
    backend: Backend
    running: PlatformFootprint
    code: CodeFootprint
    # The processes the approach's table runs in a full deployment.
    table_processes: list[str]

    @property
    def label(self) -> str:
        return self.backend.label

    def aws_count(self, kind: str) -> int:
        return len(self.running.aws.get(kind, []))

    def as_dict(self) -> dict:
        return {
            "backend": self.label,
            "approach": self.backend.approach,
            "delivery": self.backend.delivery,
            "store": self.backend.store,
            "running": self.running.as_dict(),
            "table_processes": self.table_processes,
            "code_lines": {
                "total": self.code.total,
                "core": self.code.core,
                "stages": self.code.stages,
            },
        }


def measure_cost(run: PlatformRun, backend: Backend) -> PlatformCost:
    """What the running platform ``run`` (of ``backend``) costs."""
    return PlatformCost(
        backend=backend,
        running=measure_footprint(run),
        code=code_footprint(
            backend.approach,
            delivery=backend.delivery,
            store=backend.store,
            lines=_lines(),
        ),
        table_processes=[
            process.name
            for process in platform_processes(
                backend.approach, delivery=backend.delivery, store=backend.store
            )
        ],
    )


_counted: dict[str, int] | None = None


def _lines() -> dict[str, int]:
    """Every stage's lines, counted once per process: the code does not change
    while the lab runs."""
    global _counted
    if _counted is None:
        _counted = lines_by_stage()
    return _counted


COST_COLUMNS = [
    "approach",
    "processes (OS)",
    "in a deployment",
    "RSS MiB",
    "databases (MiB)",
    "queues",
    "topics",
    "streams",
    "tables",
    "code lines",
]


def cost_row(cost: PlatformCost) -> list[str]:
    running = cost.running
    return [
        cost.label,
        f"{len(running.processes)} ({running.os_processes})",
        str(len(cost.table_processes)),
        f"{running.rss_bytes / MIB:.0f}",
        f"{len(running.databases)} ({running.database_bytes / MIB:.0f})",
        str(cost.aws_count("SQS queues")),
        str(cost.aws_count("SNS topics")),
        str(cost.aws_count("Kinesis streams")),
        str(cost.aws_count("DynamoDB tables")),
        f"{cost.code.total} (+{cost.code.total - cost.code.core})",
    ]


COSTS_NOTE = (
    "Measured while each platform ran, after its scenarios. Processes: those the "
    "lab started (with the workers they forked); a deployment also runs the "
    "query web servers and the gateway (stack/process_table.py). RSS counts pages "
    "a forked worker shares with its parent in both. Code lines: the core every "
    "approach runs plus the stages the approach activates (+ that much), "
    "non-blank non-comment lines of the services' modules (observe/code_stages.py)."
)


def stages_text(cost: PlatformCost) -> str:
    """The stages behind a row's code lines."""
    if not cost.code.stages:
        return f"{cost.label}: the core alone ({cost.code.core} lines)"
    parts = ", ".join(f"{name} {lines}" for name, lines in cost.code.stages.items())
    return f"{cost.label}: core {cost.code.core} + {parts}"

"""What a running platform costs: processes, memory, databases, queues and streams.

Measured from outside while the platform runs, as an operator would: the
processes the platform started (each with the processes it forked: gunicorn's
workers, Celery's), their resident memory, the databases on the PostgreSQL
server and their size, and what the local AWS holds (queues, topics, streams,
tables). The lab prints it per approach ("what CQRS costs"), so approach 5's
"more infrastructure" is a number next to approach 2's.

Resident memory (RSS) is read with ``psutil`` when it is installed, else from
``/proc``; it counts the pages a forked worker still shares with its parent
in both, so the sum is an upper bound, the same way for every approach. The
PostgreSQL server and the lab's own process are shared by every approach and
left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stack.connections import fetch_value
from stack.local_aws import local_client
from stack.platform_run import PlatformRun

try:  # psutil is not a dependency of the platform; /proc does without it.
    import psutil
except ImportError:  # pragma: no cover (depends on the environment)
    psutil = None

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessCost:
    """One process the platform started, and those it forked."""

    name: str
    processes: int
    rss_bytes: int


@dataclass(frozen=True)
class PlatformFootprint:
    processes: list[ProcessCost]
    # Database name -> size in bytes.
    databases: dict[str, int]
    # Kind of AWS resource -> their names.
    aws: dict[str, list[str]] = field(default_factory=dict)

    @property
    def os_processes(self) -> int:
        return sum(p.processes for p in self.processes)

    @property
    def rss_bytes(self) -> int:
        return sum(p.rss_bytes for p in self.processes)

    @property
    def database_bytes(self) -> int:
        return sum(self.databases.values())

    def as_dict(self) -> dict:
        return {
            "processes": [
                {"name": p.name, "os_processes": p.processes, "rss_bytes": p.rss_bytes}
                for p in self.processes
            ],
            "os_processes": self.os_processes,
            "rss_bytes": self.rss_bytes,
            "databases": self.databases,
            "database_bytes": self.database_bytes,
            "aws": self.aws,
        }


def measure_footprint(run: PlatformRun) -> PlatformFootprint:
    return PlatformFootprint(
        processes=platform_processes_cost(run),
        databases=database_sizes(run),
        aws=aws_resources(run),
    )


def platform_processes_cost(run: PlatformRun) -> list[ProcessCost]:
    """Every running process the platform started, by its name."""
    started: dict[str, int] = {
        f"{service}-web": process.process.pid
        for service, process in run.services.items()
        if process.running()
    }
    started.update(
        {
            key: process.process.pid
            for key, process in run.workers.items()
            if process.running()
        }
    )
    if run.gateway is not None and run.gateway.running():
        started["gateway"] = run.gateway.process.pid
    if run.moto is not None and run.moto.running():
        started["local AWS (moto)"] = run.moto.pid
    costs = []
    for name, pid in started.items():
        tree = process_tree(pid)
        if tree:
            costs.append(ProcessCost(name, len(tree), sum(map(resident_bytes, tree))))
    return costs


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (empty if it is gone)."""
    if psutil is not None:
        try:
            root = psutil.Process(pid)
            return [root.pid, *(child.pid for child in root.children(recursive=True))]
        except psutil.Error:
            return []
    parents = _parents_from_proc()
    if pid not in parents:
        return []
    tree, frontier = [pid], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        tree += children
        frontier = children
    return tree


def resident_bytes(pid: int) -> int:
    if psutil is not None:
        try:
            return psutil.Process(pid).memory_info().rss
        except psutil.Error:
            return 0
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _parents_from_proc() -> dict[int, int]:
    """Every process's parent, from ``/proc/<pid>/stat``."""
    parents = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces.
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def database_sizes(run: PlatformRun) -> dict[str, int]:
    """The platform's databases (each service's, and the read ones under
    cqrs_es) and their size on the server."""
    urls = {run.database_url(service) for service in ("customer", "order")}
    if run.info.read_side:
        urls |= {run.read_database_url(service) for service in ("customer", "order")}
    return {
        url.rsplit("/", 1)[1]: int(
            fetch_value(url, "SELECT pg_database_size(current_database())")
        )
        for url in sorted(urls)
    }


def aws_resources(run: PlatformRun) -> dict[str, list[str]]:
    """What the run's local AWS holds under its prefix (empty without one)."""
    if run.moto is None:
        return {}
    endpoint = run.moto.endpoint_url
    prefix = run.env.get("EVENT_TOPOLOGY_PREFIX", "")
    sqs, sns = local_client("sqs", endpoint), local_client("sns", endpoint)
    kinesis, dynamodb = (
        local_client("kinesis", endpoint),
        local_client("dynamodb", endpoint),
    )
    queues = [
        url.rsplit("/", 1)[1]
        for url in sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    ]
    topics = [
        topic["TopicArn"].rsplit(":", 1)[1]
        for page in sns.get_paginator("list_topics").paginate()
        for topic in page["Topics"]
    ]
    streams = kinesis.list_streams().get("StreamNames", [])
    tables = [
        name
        for page in dynamodb.get_paginator("list_tables").paginate()
        for name in page["TableNames"]
    ]
    found = {
        "SQS queues": queues,
        "SNS topics": topics,
        "Kinesis streams": streams,
        "DynamoDB tables": tables,
    }
    return {
        kind: sorted(name for name in names if name.startswith(prefix))
        for kind, names in found.items()
    }

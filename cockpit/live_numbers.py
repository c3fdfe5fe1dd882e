"""The numbers in a diagram's boxes, read from a running platform.

``read_numbers(sources)`` answers ``{box_id: {metric: value}}`` for every
metric slot of the diagram (``cockpit.svg.render_svg`` takes it as is):

- ``requests``: requests a web or query server answered, from its own
  Prometheus ``/metrics`` (summed over its gunicorn workers), health checks
  and scrapes left out, so it counts what clients asked;
- ``outbox_backlog``: outbox rows committed and not yet published;
- ``queue_depth`` and ``dlq_depth``: SQS's ``ApproximateNumberOfMessages``,
  ``...NotVisible`` and ``...Delayed`` added up (waiting, being handled,
  delayed), asked of the local AWS itself;
- ``stream_backlog``: stream records the slowest reader's checkpoint has not
  passed (``observe.stream_backlog``);
- ``consumer_lag``: the p95 commit-to-apply lag of the consumer's last
  events, in ms (``observe.lag``, from its processed-event records);
- ``parked_events``: events a consumer or projector received ahead of
  their turn, parked in its database until the event before them is
  applied (``shared_events.consume.held_events``);
- ``read_model_staleness``: seconds since the newest fact a read database's
  projector applied (approach 5).

What a learner should notice: each number is read where it lives (the
database, the queue, the process's own counters), every source by itself,
side by side (one function of ``cockpit.readings`` each), each bounded by a
short timeout. A source that does not answer in time, or a process that is
stopped, gives ``None`` (drawn "n/a"): a cockpit must keep working while
the platform it shows is failing.

Why a ``PlatformRun`` (``LiveSources.of_run``) and not ``var/run/up.json``:
the run object knows everything a reading needs (the database URLs, the
metrics token, the moto server itself rather than the proxy a lab scenario
may cut, the checkpoint files, which process runs right now), while
``up.json`` is a status file kept free of secrets and database names, from
which ``/metrics`` and the outbox cannot be read. ``LiveSources`` is plain
data, so a cockpit served beside ``manage.py up`` can build one from its
own environment the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.diagrams import architecture
from cockpit.model import Box, BoxKind, Diagram
from cockpit.readings import (
    Value,
    consumer_lag,
    outbox_backlog,
    parked_events,
    queue_depth,
    requests_served,
    staleness,
    stream_backlogs,
)
from observe.stream_backlog import checkpoint_file
from shared_events.approaches import approach_info
from shared_events.configuration import SERVICES
from shared_events.transport.topology import platform_topology, tracking_name

if TYPE_CHECKING:
    from stack.platform_run import PlatformRun

Numbers = dict[str, dict[str, Value]]

#: Seconds any one source may take; past it, its numbers are None.
SOURCE_TIMEOUT = 2.0
PROCESS_KINDS = {
    BoxKind.WEB,
    BoxKind.QUERY,
    BoxKind.CONSUMER,
    BoxKind.PROJECTOR,
    BoxKind.FUNCTIONS,
    BoxKind.RELAY,
}


@dataclass(frozen=True)
class LiveSources:
    """Where a running platform's numbers live (a snapshot: build one per
    reading, it asks nothing of the platform)."""

    approach: str
    delivery: str = "sns"
    store: str = "postgres"
    metrics_token: str = ""
    #: process name -> base URL of its HTTP API (web and query servers).
    web_urls: Mapping[str, str] = field(default_factory=dict)
    #: process name -> whether it runs now; a process missing is not running.
    running: Mapping[str, bool] = field(default_factory=dict)
    #: service -> its write database's URL; service -> its read database's.
    database_urls: Mapping[str, str] = field(default_factory=dict)
    read_database_urls: Mapping[str, str] = field(default_factory=dict)
    aws_endpoint: str | None = None
    topology_prefix: str = ""
    #: service -> the event source mapping runner's checkpoint file.
    checkpoint_files: Mapping[str, Path] = field(default_factory=dict)

    @classmethod
    def of_run(cls, run: PlatformRun) -> LiveSources:
        prefix = run.env.get("EVENT_TOPOLOGY_PREFIX", "")
        running = {f"{s}-web": p.running() for s, p in run.services.items()}
        running |= {key: process.running() for key, process in run.workers.items()}
        return cls(
            approach=run.approach,
            delivery=run.env.get("EVENT_DELIVERY", "sns"),
            store=run.env.get("EVENT_STORE", "postgres"),
            metrics_token=run.env.get("METRICS_TOKEN", ""),
            web_urls={f"{s}-web": p.base_url for s, p in run.services.items()},
            running=running,
            database_urls={s: run.database_url(s) for s in SERVICES},
            read_database_urls={s: run.read_database_url(s) for s in SERVICES}
            if run.info.read_side
            else {},
            # The moto server itself, not the proxy a scenario may have cut.
            aws_endpoint=run.moto.endpoint_url if run.moto else None,
            topology_prefix=prefix,
            checkpoint_files={
                s: checkpoint_file(run.env, service=s, prefix=prefix) for s in SERVICES
            },
        )


# What one reading is: a function giving some (box, metric) values.
Reading = Callable[[], dict[tuple[str, str], Value]]


def read_numbers(
    sources: LiveSources,
    diagram: Diagram | None = None,
    *,
    timeout: float = SOURCE_TIMEOUT,
) -> Numbers:
    """Every metric slot of ``diagram`` (by default the platform's own), read
    side by side; whatever did not answer within ``timeout`` stays None."""
    diagram = diagram or architecture(
        sources.approach, delivery=sources.delivery, store=sources.store
    )
    numbers: Numbers = {
        box.id: dict.fromkeys(box.metrics) for box in diagram.boxes if box.metrics
    }
    readings = _readings(sources, diagram, timeout=timeout)
    if not readings:
        return numbers
    pool = ThreadPoolExecutor(max_workers=min(8, len(readings)))
    try:
        futures = [pool.submit(reading) for reading in readings]
        done, _ = wait(futures, timeout=timeout)
        for future in done:
            if future.exception() is not None:
                continue
            for (box_id, metric), value in future.result().items():
                if metric in numbers.get(box_id, {}):
                    numbers[box_id][metric] = value
    finally:
        # A reading still waiting ends on its own timeouts; nobody waits for it.
        pool.shutdown(wait=False, cancel_futures=True)
    return numbers


def _readings(
    sources: LiveSources, diagram: Diagram, *, timeout: float
) -> list[Reading]:
    info = approach_info(sources.approach)
    topology = platform_topology(
        prefix=sources.topology_prefix,
        delivery=sources.delivery,
        read_side=info.read_side,
    )
    readings: list[Reading] = []
    # Per database, the (box, consumer) pairs recording there: one query each.
    lag_of: dict[str, list[tuple[str, str]]] = {}
    parked_of: dict[str, list[tuple[str, str]]] = {}
    for box in diagram.boxes:
        if box.kind in PROCESS_KINDS and not sources.running.get(box.id, False):
            continue  # stopped, or not started by this platform: None
        for metric in box.metrics:
            key = (box.id, metric)
            if metric == "requests" and box.id in sources.web_urls:
                readings.append(
                    _one(
                        key,
                        requests_served,
                        url=f"{sources.web_urls[box.id]}/metrics",
                        token=sources.metrics_token,
                        timeout=timeout,
                    )
                )
            elif metric == "outbox_backlog" and box.owner in sources.database_urls:
                url = sources.database_urls[box.owner]
                readings.append(_one(key, outbox_backlog, url=url, timeout=timeout))
            elif metric == "read_model_staleness":
                url = sources.read_database_urls.get(box.owner, "")
                if url:
                    readings.append(_one(key, staleness, url=url, timeout=timeout))
            elif metric in ("queue_depth", "dlq_depth") and sources.aws_endpoint:
                name = (
                    topology.queue_name(box.owner)
                    if metric == "queue_depth"
                    else topology.dead_letter_queue_name(box.owner)
                )
                readings.append(
                    _one(
                        key,
                        queue_depth,
                        endpoint=sources.aws_endpoint,
                        name=name,
                        timeout=timeout,
                    )
                )
            elif metric in ("consumer_lag", "parked_events"):
                of = lag_of if metric == "consumer_lag" else parked_of
                for consumer, url in _consumer_databases(box, sources, info.read_side):
                    of.setdefault(url, []).append((box.id, consumer))
    for url, boxes in lag_of.items():
        readings.append(partial(consumer_lag, url=url, boxes=boxes))
    for url, boxes in parked_of.items():
        readings.append(partial(parked_events, url=url, boxes=boxes, timeout=timeout))
    if sources.aws_endpoint and diagram.of_kind(BoxKind.STREAM):
        readings.append(
            partial(
                stream_backlogs,
                approach=sources.approach,
                delivery=sources.delivery,
                store=sources.store,
                read_side=info.read_side,
                endpoint=sources.aws_endpoint,
                prefix=sources.topology_prefix,
                checkpoint_files=sources.checkpoint_files,
                boxes=diagram.boxes,
            )
        )
    return readings


def _one(key: tuple[str, str], read: Callable[..., Value], **arguments) -> Reading:
    """A reading of one number, under its box and metric."""
    return lambda: {key: read(**arguments)}


def _consumer_databases(
    box: Box, sources: LiveSources, read_side: bool
) -> list[tuple[str, str]]:
    """Where the consumers of a consumer, projector or functions box record
    what they applied: (consumer name, database URL)."""
    service = box.owner
    found = []
    applies = box.kind in (BoxKind.CONSUMER, BoxKind.FUNCTIONS)
    projects = box.kind is BoxKind.PROJECTOR or (
        box.kind is BoxKind.FUNCTIONS and read_side
    )
    if applies and service in sources.database_urls:
        found.append((tracking_name(service), sources.database_urls[service]))
    if projects and service in sources.read_database_urls:
        found.append(
            (tracking_name(f"{service}-read"), sources.read_database_urls[service])
        )
    return found

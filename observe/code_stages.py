"""The code each approach activates, in lines, stage by stage.

The paper says approach 5 costs "more infrastructure"; this module makes the
code part of that a number. The rule, stated once so it can be argued with:

* **Stages.** The repository's folders follow the pipeline a learner is
  taught, one stage each (the events' envelope, the transport, the
  consumers, the outbox and its relay, the read side...). ``STAGES`` names
  the paths of each stage; a module belongs to the first stage that names
  it (or its package). What no stage names is the **core** every approach
  runs: the command APIs, the domain, the services' plumbing.
* **Activation.** An approach activates a stage when its process table
  (``stack.process_table``) runs a process of the stage's kind (a relay, a
  projector, Lambda functions), or when its composition roots choose the
  stage's adapters. The roots choose from ``ApproachInfo`` (the customer
  lookup, each service's persistence, the read side) and from the backends
  (``EVENT_DELIVERY``, ``EVENT_STORE``), so the activation reads the same
  data here, never an approach's name.
* **Lines.** Non-blank lines that are not only a comment, in the project's
  own modules, tests and test helpers (``testing/``) and migrations left out.

The rule counts whole modules: a module that holds every approach's adapter
(``orders/customers.py`` has all three customer directories) is core. What
it shows is what an approach adds to run at all: the stages and their
processes, databases and queues.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared_events.approaches import ApproachInfo, CustomerLookup, approach_info
from shared_events.configuration import REPO_DIR
from stack.process_table import Kind, platform_processes

# The project's code the services run; the lab, the CLI and the tooling around
# them are not part of any approach.
SERVICE_PACKAGES = ("shared_events", "service_kit", "customer_service", "order_service")
LEFT_OUT_PARTS = {"tests", "testing", "migrations", "proposed_migrations"}


@dataclass(frozen=True)
class Needs:
    """What a platform needs, as the composition roots and the process table see it."""

    info: ApproachInfo
    kinds: frozenset[Kind]
    delivery: str
    store: str

    @classmethod
    def of(cls, approach: str, *, delivery: str = "sns", store: str = "postgres"):
        processes = platform_processes(approach, delivery=delivery, store=store)
        return cls(
            info=approach_info(approach),
            kinds=frozenset(process.kind for process in processes),
            delivery=delivery,
            store=store,
        )

    @property
    def keeps_events(self) -> bool:
        return bool(self.info.outbox_services)


@dataclass(frozen=True)
class Stage:
    name: str
    paths: tuple[str, ...]
    active: Callable[[Needs], bool]


# Specific paths before the packages that hold them: the first stage wins.
STAGES: tuple[Stage, ...] = (
    Stage(
        "shared customer table",
        ("order_service/customer_table/",),
        lambda n: n.info.customer_lookup == CustomerLookup.SHARED_TABLE,
    ),
    Stage(
        "Lambda functions and their runner",
        (
            "shared_events/event_source_mapping/",
            "shared_events/functions.py",
            "shared_events/consume/lambda_handler.py",
            "shared_events/management/commands/run_event_source_mappings.py",
            "customer_service/functions/",
            "order_service/functions/",
        ),
        lambda n: Kind.FUNCTIONS in n.kinds,
    ),
    Stage(
        "DynamoDB event store",
        ("shared_events/write_side/dynamodb/", "shared_events/outbox/stream_relay.py"),
        lambda n: n.keeps_events and n.store == "dynamodb",
    ),
    Stage(
        "Kinesis streams",
        ("shared_events/transport/kinesis_publisher.py",),
        lambda n: n.info.uses_events and n.delivery == "kinesis",
    ),
    Stage(
        "read side: projections, read models, query API",
        (
            "shared_events/read_side/",
            "shared_events/consume/projection_guard.py",
            "shared_events/management/commands/rebuild_read_models.py",
            "service_kit/read_models.py",
            "service_kit/api/query.py",
            "service_kit/api/query_side_auth.py",
            "service_kit/api/staleness.py",
            "customer_service/summaries/",
            "customer_service/config/query_urls.py",
            "order_service/order_views/",
            "order_service/config/query_urls.py",
        ),
        lambda n: n.info.read_side,
    ),
    Stage(
        "outbox and its relay",
        (
            "shared_events/outbox/",
            "shared_events/write_side/outbox_queue.py",
            "shared_events/tasks.py",
            "shared_events/management/commands/relay_worker.py",
            "shared_events/management/commands/relay_outbox.py",
            "service_kit/celery_app.py",
            "service_kit/settings/celery.py",
            "customer_service/config/celery_app.py",
            "order_service/config/celery_app.py",
        ),
        lambda n: Kind.RELAY in n.kinds,
    ),
    Stage(
        "event store and history",
        (
            "shared_events/write_side/event_store.py",
            "shared_events/write_side/history.py",
            "service_kit/api/history.py",
        ),
        lambda n: n.keeps_events,
    ),
    Stage(
        "consumers and the replica",
        (
            "shared_events/consume/",
            "shared_events/management/commands/consume_events.py",
            "shared_events/management/commands/dead_letters.py",
            "order_service/orders/handlers.py",
        ),
        lambda n: n.info.uses_events,
    ),
    Stage(
        "transport: topics, queues, streams",
        (
            "shared_events/transport/",
            "shared_events/management/commands/aws_bootstrap.py",
        ),
        lambda n: n.info.uses_events,
    ),
    Stage(
        "events: envelope, registry, signatures",
        (
            "shared_events/events/",
            "shared_events/event_keys.py",
            "shared_events/management/commands/event_keys.py",
        ),
        lambda n: n.info.uses_events,
    ),
)
CORE = "core (every approach)"


def service_modules(root: Path = REPO_DIR) -> list[Path]:
    """The services' own modules, tests, test helpers and migrations left out."""
    found = []
    for package in SERVICE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = set(path.relative_to(root).parts[:-1])
            if parts & LEFT_OUT_PARTS or path.name.startswith("test_"):
                continue
            if path.name == "conftest.py":
                continue
            found.append(path)
    return found


def stage_of(relative: str) -> str:
    for stage in STAGES:
        if any(
            relative == path or (path.endswith("/") and relative.startswith(path))
            for path in stage.paths
        ):
            return stage.name
    return CORE


def code_lines(path: Path) -> int:
    """Non-blank lines that are not only a comment."""
    return sum(
        1
        for line in path.read_text(errors="replace").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


def lines_by_stage(root: Path = REPO_DIR) -> dict[str, int]:
    """Every stage's lines (and the core's), whatever the approach."""
    totals = {CORE: 0, **{stage.name: 0 for stage in STAGES}}
    for path in service_modules(root):
        totals[stage_of(path.relative_to(root).as_posix())] += code_lines(path)
    return totals


@dataclass(frozen=True)
class CodeFootprint:
    """The lines an approach activates: the core and its stages."""

    core: int
    stages: dict[str, int]

    @property
    def total(self) -> int:
        return self.core + sum(self.stages.values())


def code_footprint(
    approach: str,
    *,
    delivery: str = "sns",
    store: str = "postgres",
    lines: dict[str, int] | None = None,
) -> CodeFootprint:
    """The core's lines and those of every stage ``approach`` activates on
    these backends (``lines``: ``lines_by_stage()``, counted once by a caller
    measuring several)."""
    lines = lines if lines is not None else lines_by_stage()
    needs = Needs.of(approach, delivery=delivery, store=store)
    return CodeFootprint(
        core=lines[CORE],
        stages={
            stage.name: lines[stage.name] for stage in STAGES if stage.active(needs)
        },
    )

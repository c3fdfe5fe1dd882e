"""Which processes each approach runs: the one table everything starts from.

``manage.py up``, the lab's platform runs, ``docker-compose.yml`` and the
CloudFormation templates in ``deploy/`` all derive their processes from
``platform_processes(approach)``, so a learner reads here, once, what each
approach costs to run:

- every approach: one web server per service (the command API);
- approaches 3 to 5 (events cross the boundary): one consumer per service,
  applying the other service's events from its SQS inbox;
- approaches 4 and 5 (an outbox): one relay per event-sourced service,
  publishing its outbox to SNS;
- approach 5 (CQRS): one projector per service (the read-side consumer,
  writing the read models) and one query web server per service, serving
  the query API from the read database only (the paper's query service);
- every approach, last: the gateway, the one front door (HAProxy, in front
  of the web servers above: ``stack.gateway_routes``). It belongs to no
  service and is not a ``manage.py`` command, so it is started its own way
  (``stack.gateway``), and on AWS API Gateway plays its part.

The AWS backends change who does the event work (``shared_events.functions``):
under ``EVENT_DELIVERY=kinesis`` no inbox is long-polled, and under
``EVENT_STORE=dynamodb`` the event table's stream replaces the outbox and its
relay. A service with Lambda functions runs one ``functions`` process: the
local event source mapping runner, calling its handlers in-process. On AWS
Lambda itself runs them, so the templates deploy ``deployed_processes``: the
same table without that process.

Each service's process is ``manage.py --service <service> <arguments>``; a
web server's arguments take its bind address last.

Optional, started by no approach by default: the processes of a service that
joins a running platform later (``joining_processes``: the analytics
service's web server and its consumer, which subscribes, replays the order
service's history and follows its inbox). The add-consumer lab scenario
starts them; nothing above changes for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared_events.approaches import Approach, ApproachInfo, approach_info
from shared_events.configuration import SERVICES
from shared_events.functions import platform_mappings
from shared_events.transport.topology import platform_topology


class Kind(StrEnum):
    WEB = "web"
    QUERY = "query"
    CONSUMER = "consumer"
    PROJECTOR = "projector"
    RELAY = "relay"
    FUNCTIONS = "functions"
    GATEWAY = "gateway"


# The ports ``manage.py up`` serves on unless told otherwise.
DEFAULT_PORTS: dict[str, int] = {
    "gateway": 8000,
    "customer-web": 8001,
    "order-web": 8002,
    "customer-query": 8011,
    "order-query": 8012,
}


@dataclass(frozen=True)
class PlatformProcess:
    # The service it belongs to; None for the gateway, in front of them all.
    service: str | None
    kind: Kind
    # ``manage.py --service <service>`` arguments (a web server's bind follows).
    arguments: tuple[str, ...]
    # Settings of this process on top of the platform's (the query side's).
    environment: tuple[tuple[str, str], ...] = ()
    # What its log shows once it is ready (a web server answers its health check).
    ready_text: str | None = None
    what: str = ""

    @property
    def name(self) -> str:
        if self.service is None:
            return self.kind.value
        return f"{self.service}-{self.kind.value}"

    @property
    def serves_http(self) -> bool:
        return self.kind in (Kind.WEB, Kind.QUERY)

    @property
    def applies_events(self) -> bool:
        return self.kind in (Kind.CONSUMER, Kind.PROJECTOR, Kind.FUNCTIONS)

    def command(self, *, bind: str | None = None) -> tuple[str, ...]:
        """The ``manage.py --service`` arguments; a web server's bind last."""
        if self.serves_http:
            return (*self.arguments, "--bind", bind or "127.0.0.1:8000")
        return self.arguments


def web(service: str) -> PlatformProcess:
    return PlatformProcess(
        service=service,
        kind=Kind.WEB,
        arguments=("serve",),
        what=f"the {service} service's API (gunicorn)",
    )


def gateway() -> PlatformProcess:
    return PlatformProcess(
        service=None,
        kind=Kind.GATEWAY,
        arguments=(),
        what="the one front door (HAProxy): routes /customers/, /orders/ and "
        "/query/, checks JWTs, throttles, logs each request",
    )


def query_web(service: str) -> PlatformProcess:
    return PlatformProcess(
        service=service,
        kind=Kind.QUERY,
        arguments=("serve",),
        environment=(("QUERY_SIDE_ONLY", "true"),),
        what=f"the {service} service's query API alone, on the read models",
    )


# The consumers' batch window (``consume_events --batch-window``): after a
# partial batch a consumer waits this long before it receives again, so a
# steady trickle arrives in fuller batches: at 8 commands/s under cqrs_es,
# 0.2 s took the CPU per command from about 105-134 ms to 87-88 ms (fewer
# receives and deletes for moto and the consumers), for at most that much
# more lag per hop (docs/benchmarks.md, figure 11). AWS's own default for an
# SQS event source mapping is 0.
BATCH_WINDOW = "0.1"

# Each kind of worker: its arguments, what its log shows once ready, what it does.
WORKERS: dict[Kind, tuple[tuple[str, ...], str, str]] = {
    Kind.CONSUMER: (
        ("consume_events", "--wait-seconds", "1", "--batch-window", BATCH_WINDOW),
        "consuming ",
        "applies the events in the {service} service's SQS inbox",
    ),
    Kind.PROJECTOR: (
        (
            "consume_events",
            *("--side", "read", "--wait-seconds", "1", "--batch-window", BATCH_WINDOW),
        ),
        "consuming ",
        "projects every event into the {service} service's read models",
    ),
    Kind.RELAY: (
        ("relay_worker", "--loglevel", "INFO"),
        "ready.",
        "publishes the {service} service's outbox to SNS (Celery)",
    ),
    Kind.FUNCTIONS: (
        ("run_event_source_mappings",),
        "running ",
        "runs the {service} service's Lambda handlers from their streams "
        "(the local event source mapping runner)",
    ),
}


def worker(service: str, kind: Kind) -> PlatformProcess:
    arguments, ready_text, what = WORKERS[kind]
    return PlatformProcess(
        service=service,
        kind=kind,
        arguments=arguments,
        ready_text=ready_text,
        what=what.format(service=service),
    )


def platform_processes(
    approach: Approach | str, *, delivery: str = "sns", store: str = "postgres"
) -> list[PlatformProcess]:
    """Every process ``approach`` needs with these backends, and nothing else,
    in start order."""
    info = approach_info(approach)
    long_polls = delivery != "kinesis"
    table = [web(service) for service in SERVICES]
    if info.read_side:
        table += [query_web(service) for service in SERVICES]
    if info.uses_events and long_polls:
        table += [worker(service, Kind.CONSUMER) for service in SERVICES]
    if info.read_side and long_polls:
        table += [worker(service, Kind.PROJECTOR) for service in SERVICES]
    if store != "dynamodb":
        table += [worker(service, Kind.RELAY) for service in info.outbox_services]
    table += [
        worker(service, Kind.FUNCTIONS)
        for service in SERVICES
        if has_functions(service, info=info, delivery=delivery, store=store)
    ]
    # Last: its routes lead to the web servers started before it.
    table.append(gateway())
    return table


def has_functions(
    service: str, *, info: ApproachInfo, delivery: str, store: str
) -> bool:
    """Whether ``service`` has Lambda functions with these backends."""
    topology = platform_topology(delivery=delivery, read_side=info.read_side)
    return bool(
        platform_mappings(
            service=service,
            approach=info,
            delivery=delivery,
            store=store,
            topology=topology,
            retries=1,
        )
    )


#: Ports of the optional processes (``joining_processes``).
JOINING_PORTS: dict[str, int] = {"analytics-web": 8003}


def joining_processes(
    approach: Approach | str, *, delivery: str = "sns", store: str = "postgres"
) -> list[PlatformProcess]:
    """The analytics service's processes, in start order, where it can join:
    the order service keeps a PostgreSQL event store to replay (approaches 4
    and 5) and SNS fans its events out to a new inbox. None elsewhere."""
    info = approach_info(approach)
    if not info.event_sourced("order") or delivery != "sns" or store != "postgres":
        return []
    return [
        PlatformProcess(
            service="analytics",
            kind=Kind.CONSUMER,
            arguments=("analytics_catch_up", "--follow", "--wait-seconds", "1"),
            ready_text="consuming ",
            what="subscribes the analytics inbox to the order events topic, "
            "replays the order service's event store, then applies the inbox",
        ),
        web("analytics"),
    ]


def deployed_processes(
    approach: Approach | str, *, delivery: str = "sns", store: str = "postgres"
) -> list[PlatformProcess]:
    """The processes the ``deploy/`` templates run on AWS as ECS services.

    The table's processes minus the ``functions`` process: on AWS, Lambda runs
    the handlers from the event source mappings the templates declare (one
    ``AWS::Lambda::EventSourceMapping`` per entry of
    ``shared_events.functions.platform_mappings``), so nothing polls locally.
    Minus the gateway too: on AWS it is API Gateway (``deploy/shared.yaml``).
    """
    return [
        p
        for p in platform_processes(approach, delivery=delivery, store=store)
        if p.kind not in (Kind.FUNCTIONS, Kind.GATEWAY)
    ]


def worker_processes(
    approach: Approach | str, *, delivery: str = "sns", store: str = "postgres"
) -> list[PlatformProcess]:
    """The processes of ``approach`` that serve no HTTP (consumers, relays...)."""
    return [
        p
        for p in platform_processes(approach, delivery=delivery, store=store)
        if not p.serves_http and p.kind is not Kind.GATEWAY
    ]

"""Figure 11: the knee, where the platform stops keeping up, beside the broker's.

Subject: a whole platform (``stack.platform_run.running_platform``: both
services under gunicorn, an outbox relay per service, the consumers, under
``cqrs_es`` the projectors too, its own local AWS), once under ``cqrs_es`` and
once under ``event_sourcing``. After a short warm-up load that is not
counted, the offered rate rises step by step (5, 10, 20, 30 ... commands/s,
half registrations and half orders, paced as figure 6 paces them:
``end_to_end._offer_load``). A step passes when

- the backlog (unpublished outbox rows plus messages in every queue) does
  not grow: its least-squares slope, fitted after the first fifth of the
  step (while the pipeline fills, the backlog rises at any rate), stays
  under 5 % of the offered rate (figure 6's rule, one-sided);
- the commit-to-read-model p99 (``observe.lag``; under ``event_sourcing``,
  commit to the other service's replica) stays under 1 s;
- at least 99 % of the commands were accepted, and the backlog drained within
  the step's bound afterwards (else the p99 misses the events still waiting).

The knee is the highest rate that passed. Stepping stops after two failures
in a row; between steps the backlog drains (bounded).

Baseline: the broker alone doing the same message work per command
(``bench.broker_alone``), by raw boto3 on a local AWS of its own, after the
platforms have stopped: the platform's
topology under the same approach (``platform_topology``, created by
``ensure_topology``: one topic per producing service; under ``cqrs_es`` each
event fans out to three queues, the other service's inbox and both read
inboxes, under ``event_sourcing`` to one), one publisher process per relay
publishing what is due with ``PublishBatch`` in chunks of ten (as the relay's
``SnsPublisher`` does), with bodies the size of the platform's envelopes and
the same two message attributes, and one receiver process per consuming
queue, receiving ten at a time with the consumers' long poll, visibility
timeout and attributes, deleting each batch in one call. Its latency is
publish to receive; its backlog is what the publishers have not yet sent
plus what the queues hold. Target: the platform's knee at least 0.8 of the
broker's (the ratio).

Each step also reads the CPU seconds of every process by kind from /proc
(``bench.cpu_split``): web, relay, consumer, projector, moto, the PostgreSQL
backends of the platform's databases, the server's shared processes, the
load generator, and what the machine's cores did for other work; per command
over the step (load and drain), and as the share of a core each kept busy
during the load. A kind near a whole core is the bottleneck; with none near
one and little left for other work, the two cores are.

Burst and drain: under ``cqrs_es`` the consumers and projectors are paused
while N commands are committed and relayed; then they are resumed together
and the figure times the inboxes' drain (events per second, the events
waiting when the last consumer was ready over the time to empty). The broker
alone, on a fresh local AWS (a load past its knee leaves deep queues that
drain slowly), publishes N events into the same fan-out with its receivers
held, then lets them go.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg2
import requests

from bench.broker_alone import BrokerAlone, fan_out, inbox_depths, time_drain
from bench.cpu_split import (
    LOAD_GENERATOR,
    OTHER_WORK,
    CpuSplit,
    postmaster_of,
    split_by_kind,
    summary,
)
from bench.end_to_end import (
    _backlog_parts,
    _drain,
    _offer_load,
    _slope,
    place_order,
    register_customer,
)
from bench.report import Figure
from observe.event_tables import EventTables
from observe.quiescence import BacklogProbe
from observe.tables import EVENT_STORE_TABLE, OUTBOX_TABLE
from shared_events.approaches import approach_info
from shared_events.configuration import all_database_names
from shared_events.transport.topology import Topology, platform_topology
from stack.connections import fetch_value
from stack.local_aws import local_client
from stack.platform_run import PlatformRun, running_platform
from stack.postgres import drop_databases

KNEE = Figure("11 knee", unit="cmd/s")
KNEE_STEPS = Figure("11 knee steps, p99", unit="ms")
HALF_KNEE = Figure("11 p99 at half the knee", unit="ms")
BURST = Figure("11 burst and drain", unit="events/s")
# The platform's database prefix unless the run gives one.
PREFIX = "bench_knee_"
BURST_APPROACH = "cqrs_es"
DELIVERY_NAMES = {"sns": "SNS + SQS", "sqs": "SQS", "kinesis": "Kinesis"}
STORE_NAMES = {"postgres": "PostgreSQL", "dynamodb": "DynamoDB"}


@dataclass(frozen=True)
class Subject:
    """One platform the figure climbs: an approach, its delivery and its store
    (the lab's ``APPROACH[:DELIVERY[:STORE]]``, e.g. ``cqrs_es:kinesis``)."""

    approach: str
    delivery: str = "sns"
    store: str = "postgres"

    @classmethod
    def parse(cls, text: str) -> Subject:
        parts = text.split(":")
        subject = cls(*parts)
        if subject.delivery not in DELIVERY_NAMES or subject.store not in STORE_NAMES:
            raise ValueError(
                f"{text!r}: APPROACH[:sns|sqs|kinesis[:postgres|dynamodb]]"
            )
        approach_info(subject.approach)  # refuses an unknown approach
        return subject

    @property
    def name(self) -> str:
        if (self.delivery, self.store) == ("sns", "postgres"):
            return self.approach
        return (
            f"{self.approach} ({DELIVERY_NAMES[self.delivery]}, "
            f"{STORE_NAMES[self.store]})"
        )

    @property
    def env(self) -> dict[str, str]:
        return {"EVENT_DELIVERY": self.delivery, "EVENT_STORE": self.store}

    @property
    def bursts(self) -> bool:
        """The burst runs on the default picture: its drain is timed on inboxes."""
        return (self.approach, self.delivery, self.store) == (
            BURST_APPROACH,
            "sns",
            "postgres",
        )

    @property
    def broker(self) -> tuple[bool, str]:
        """What the broker alone repeats: the topology (read side or not) and
        the delivery. The store changes who publishes, not the message work."""
        return approach_info(self.approach).read_side, self.delivery


# The figure's platforms unless the plan names others: both event-sourced
# approaches on the default picture, then cqrs_es on each other delivery and
# on the other store.
SUBJECTS = ("cqrs_es", "event_sourcing")
EVERY_SUBJECT = (*SUBJECTS, "cqrs_es:sqs", "cqrs_es:kinesis", "cqrs_es:sns:dynamodb")
# Where the lag is read: the read models, or the other service's replica.
LAG_MEASURED = {
    "cqrs_es": "commit to read model",
    "event_sourcing": "commit to replica",
}
P99_BOUND_MS = 1000.0
# The backlog's slope is fitted after the pipeline filled: from zero to its
# steady level (rate x latency x fan-out) it rises at every rate.
WARM_UP_SHARE = 0.2
GROWTH_SHARE = 0.05
# Below this slope (messages/s) a backlog is not growing, whatever the rate:
# at 5 or 10 cmd/s a backlog of a handful of messages moving by one or two
# between samples fits slopes of +0.3 to +1.4/s (measured with every command
# accepted and drained), while one a platform does not keep up with grows by
# tens a second (figure 6: +62/s at 50 cmd/s).
GROWTH_FLOOR = 2.0
ACCEPTED_SHARE = 0.99
FAILURES_TO_STOP = 2
# A first, short load at the lowest rate, not counted: the web workers'
# first requests, the first connections and clients are not the pipeline's
# steady cost.
WARM_UP_SECONDS = 5
TARGET_RATIO = 0.8
# The platform's p99 at half its knee against the broker alone's, same rate.
HALF_KNEE_P99_RATIO = 3.0
# Customers registered before the burst, so its orders find them in the
# order service's replica while the consumers are paused.
BURST_CUSTOMERS = 10
BURST_CLIENTS = 16
# Used when no outbox row was read (a platform that committed nothing).
DEFAULT_BODY_BYTES = 1200


@dataclass
class Step:
    """One offered rate and what it did."""

    rate: int
    p99_ms: float | None
    flat: bool
    slope: float
    accepted: int
    total: int
    drained: bool
    backlog_max: int
    # Kind -> cpu_seconds, ms_per_command, cores (``bench.cpu_split``).
    cpu: dict = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        found = []
        if not self.flat:
            found.append(f"backlog growing ({self.slope:+.1f}/s)")
        if self.p99_ms is None or self.p99_ms >= P99_BOUND_MS:
            p99 = "none" if self.p99_ms is None else f"{self.p99_ms:.0f} ms"
            found.append(f"p99 {p99}")
        if self.accepted < ACCEPTED_SHARE * self.total:
            found.append(f"{self.accepted}/{self.total} accepted")
        if not self.drained:
            found.append("did not drain")
        return found

    @property
    def passed(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        verdict = "ok" if self.passed else "FAIL: " + ", ".join(self.problems)
        p99 = "-" if self.p99_ms is None else f"{self.p99_ms:.0f}"
        return (
            f"{self.rate} cmd/s {verdict} (p99 {p99} ms, backlog max "
            f"{self.backlog_max}, slope {self.slope:+.1f}/s); CPU {summary(self.cpu)}"
        )

    def as_dict(self) -> dict:
        return {
            "rate": self.rate,
            "passed": self.passed,
            "p99_ms": self.p99_ms,
            "flat": self.flat,
            "slope": round(self.slope, 2),
            "accepted": self.accepted,
            "total": self.total,
            "drained": self.drained,
            "backlog_max": self.backlog_max,
            "cpu": self.cpu,
        }


def growth(samples: list[tuple[float, int]], *, load_seconds: float) -> float:
    """The backlog's least-squares slope (messages/s) after the warm-up."""
    warm = [(at, n) for at, n in samples if at >= WARM_UP_SHARE * load_seconds]
    return _slope(warm)


def keeps_up(slope: float, *, rate: float) -> bool:
    """Figure 6's rule, one-sided: the backlog grows by less than 5 % of the
    offered rate, or less than the floor (a shrinking backlog is one being
    caught up with)."""
    return slope < max(GROWTH_SHARE * rate, GROWTH_FLOOR)


def step_of(rate: int, result: dict, meter: CpuSplit) -> Step:
    """A step from a load's answer (``_offer_load``'s keys) and its CPU meter."""
    slope = growth(result["backlog"], load_seconds=result["load_seconds"])
    return Step(
        rate=rate,
        p99_ms=result["lag"].p99_ms,
        flat=keeps_up(slope, rate=result["total"] / result["load_seconds"]),
        slope=slope,
        accepted=result["accepted"],
        total=result["total"],
        drained=result["drained"],
        backlog_max=result["backlog_max"],
        cpu=split_by_kind(
            meter, load_seconds=result["load_seconds"], commands=result["total"]
        ),
    )


def climb(rates: Iterable[int], offer: Callable[[int], Step], log) -> list[Step]:
    """Offer each rate in turn until FAILURES_TO_STOP steps in a row fail."""
    steps: list[Step] = []
    failures = 0
    for rate in rates:
        step = offer(rate)
        log(f"knee: {step.describe()}")
        steps.append(step)
        failures = 0 if step.passed else failures + 1
        if failures >= FAILURES_TO_STOP:
            break
    return steps


def knee_of(steps: Iterable[Step]) -> int:
    """The highest rate that passed; 0 if none did."""
    return max((step.rate for step in steps if step.passed), default=0)


# THE SUBJECT: A WHOLE PLATFORM
# ------------------------------------------------------------------------------


def platform_roots(platform: PlatformRun) -> dict[str, list[int]]:
    """The root process of each kind the platform runs, and the load generator."""
    roots: dict[str, list[int]] = {
        "web": [process.process.pid for process in platform.services.values()],
        LOAD_GENERATOR: [os.getpid()],
    }
    for key, process in platform.workers.items():
        kind = platform.worker_specs[key].kind.value
        roots.setdefault(kind, []).append(process.process.pid)
    if platform.moto is not None:
        roots["moto"] = [platform.moto.pid]
    return roots


@dataclass
class PlatformResult:
    subject: Subject
    steps: list[Step]
    # The mean outbox body (the signed envelope), for the broker's messages.
    body_bytes: int
    bursts: list[dict] = field(default_factory=list)
    # Events each producing service stored per command (the warm-up's).
    events_per_command: dict[str, float] = field(default_factory=dict)


def measure_platform(
    bench,
    *,
    subject: Subject,
    prefix: str,
    rates: list[int],
    step_seconds: int,
    drain_seconds: float,
    bursts: list[int],
    log,
) -> PlatformResult:
    with running_platform(
        approach=subject.approach,
        server_url=bench.server_url,
        prefix=prefix,
        extra_env=subject.env,
        broker_proxy=False,
    ) as platform:
        log(f"knee: platform up ({subject.name})")
        probe = BacklogProbe(platform)
        databases = frozenset(all_database_names(prefix))
        connection = psycopg2.connect(platform.database_url("customer"))
        try:
            postmaster = postmaster_of(connection)
        finally:
            connection.close()

        def meter() -> CpuSplit:
            return CpuSplit(
                roots=lambda: platform_roots(platform),
                databases=databases,
                postmaster=postmaster,
            )

        def backlog() -> dict[str, int]:
            return probe.measure().as_dict()

        lag_databases = None
        if not platform.info.read_side:
            lag_databases = {
                service: platform.database_url(service)
                for service in ("customer", "order")
            }

        def offer(rate: int) -> Step:
            split = meter()

            def measure() -> dict[str, int]:
                split.sample()
                return backlog()

            result = _offer_load(
                platform,
                rate=rate,
                seconds=step_seconds,
                log=log,
                measure=measure,
                lag_databases=lag_databases,
                drain_timeout=drain_seconds,
            )
            return step_of(rate, result, split)

        _offer_load(
            platform,
            rate=rates[0],
            seconds=min(WARM_UP_SECONDS, step_seconds),
            log=log,
            measure=backlog,
            lag_databases=lag_databases,
            drain_timeout=drain_seconds,
        )
        # Over the climb, not the warm-up: the first orders find few customers
        # in the replica yet, and an order refused stores no events.
        before = events_stored(platform)
        steps = climb(rates, offer, log)
        after = events_stored(platform)
        accepted = max(1, sum(step.accepted for step in steps))
        per_command = {
            service: round((after[service] - before[service]) / accepted, 3)
            for service in after
        }
        log(f"knee: {subject.name} stores {per_command} events per command")
        body_bytes = _mean_body_bytes(platform)
        drained = []
        for events in bursts:
            drained.append(
                platform_burst(
                    platform,
                    events=events,
                    drain_seconds=drain_seconds * 4,
                    meter=meter(),
                    log=log,
                )
            )
            log(f"knee: {subject.name} platform burst: {_drain_note(drained[-1])}")
    return PlatformResult(subject, steps, body_bytes, drained, per_command)


def events_stored(platform: PlatformRun) -> dict[str, int]:
    """Events each service's write side has stored: its PostgreSQL event
    store, or its DynamoDB event table (``EVENT_STORE=dynamodb``)."""
    tables = EventTables.of_platform(platform)
    if tables is not None:
        return {
            service: sum(len(commit.envelopes) for commit in tables.commits(service))
            for service in tables.names
        }
    return {
        service: fetch_value(
            platform.database_url(service), f"SELECT count(*) FROM {EVENT_STORE_TABLE}"
        )
        for service in platform.info.outbox_services
    }


def _mean_body_bytes(platform: PlatformRun) -> int:
    sizes = []
    for service in ("customer", "order"):
        connection = psycopg2.connect(platform.database_url(service))
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT avg(octet_length(body)) FROM {OUTBOX_TABLE}")
                (size,) = cursor.fetchone()
        finally:
            connection.close()
        if size is not None:
            sizes.append(float(size))
    return round(sum(sizes) / len(sizes)) if sizes else DEFAULT_BODY_BYTES


def platform_burst(
    platform: PlatformRun, *, events: int, drain_seconds: float, meter: CpuSplit, log
) -> dict:
    """Commit ``events`` commands with the consumers paused, let the relay
    publish them all, resume the consumers together and time the drain."""
    sqs = local_client("sqs", platform.moto.endpoint_url)
    topology = platform_topology(
        prefix=platform.env["EVENT_TOPOLOGY_PREFIX"],
        read_side=platform.info.read_side,
    )
    inboxes = [
        sqs.get_queue_url(QueueName=topology.queue_name(consumer))["QueueUrl"]
        for consumer in topology.consumers
    ]
    session = requests.Session()
    session.headers["Authorization"] = f"Token {platform.token}"
    customers = [_register(session, platform) for _ in range(BURST_CUSTOMERS)]
    customers = [c for c in customers if c]
    # What the last step left drains first (bounded): the note says if not.
    settled = _drain(lambda: _backlog_parts(platform, sqs), timeout=drain_seconds)
    keys = platform.consumer_keys()
    platform.pause_workers(keys)
    local = threading.local()

    def command(number: int) -> bool:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["Authorization"] = f"Token {platform.token}"
        try:
            if number % 2 and customers:
                return _place(local.session, platform, random.choice(customers))
            return _register(local.session, platform) is not None
        except requests.RequestException:
            return False

    committing = time.monotonic()
    with ThreadPoolExecutor(max_workers=BURST_CLIENTS) as pool:
        accepted = sum(pool.map(command, range(events)))
    commit_seconds = time.monotonic() - committing

    def outboxes() -> dict[str, int]:
        parts = _backlog_parts(platform, sqs)
        return {k: v for k, v in parts.items() if k.endswith(" outbox")}

    relayed = _drain(outboxes, timeout=drain_seconds)
    log(
        f"knee: burst of {events}: {accepted} accepted in {commit_seconds:.0f}s, "
        f"relayed {'all' if relayed else 'NOT all'}; inboxes "
        f"{inbox_depths(sqs, inboxes)}; resuming {', '.join(keys)}"
    )
    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        list(pool.map(lambda key: platform.resume_workers([key]), keys))
    return time_drain(
        sqs,
        inboxes,
        fan_out=fan_out(topology),
        drain_seconds=drain_seconds,
        meter=meter,
        extra={
            "events": events,
            "accepted": accepted,
            "relayed": relayed,
            "settled": settled,
        },
    )


def _register(session: requests.Session, platform: PlatformRun) -> str | None:
    response = register_customer(session, platform, timeout=30)
    return response.json()["id"] if response.status_code == 201 else None


def _place(session: requests.Session, platform: PlatformRun, customer: str) -> bool:
    return place_order(session, platform, customer, timeout=30).status_code == 201


def measure_broker(
    *,
    platform: PlatformResult,
    body_bytes: int,
    rates: list[int],
    step_seconds: int,
    drain_seconds: float,
    bursts: list[int],
    log,
) -> PlatformResult:
    """The broker alone's knee for a platform's topology, delivery and events
    per command; then each burst on a fresh local AWS: a load past the knee
    leaves queues that drain slowly, and a burst must start from empty ones."""
    read_side, delivery = platform.subject.broker

    def broker() -> BrokerAlone:
        return BrokerAlone(
            read_side=read_side,
            body_bytes=body_bytes,
            log=log,
            delivery=delivery,
            events_per_command=platform.events_per_command or None,
        )

    alone = broker()
    try:
        alone.offer(
            rates[0],
            seconds=min(WARM_UP_SECONDS, step_seconds),
            drain_seconds=drain_seconds,
        )

        def offer(rate: int) -> Step:
            result = alone.offer(
                rate, seconds=step_seconds, drain_seconds=drain_seconds
            )
            return step_of(rate, result, result["meter"])

        steps = climb(rates, offer, log)
    finally:
        alone.close()
    drained = []
    for events in bursts:
        alone = broker()
        try:
            drained.append(
                alone.burst(events, drain_seconds=drain_seconds * 4, log=log)
            )
        finally:
            alone.close()
        log(f"knee: broker burst: {_drain_note(drained[-1])}")
    return PlatformResult(
        platform.subject, steps, body_bytes, drained, platform.events_per_command
    )


# THE FIGURE
# ------------------------------------------------------------------------------


def run(
    bench,
    *,
    rates: list[int],
    step_seconds: int,
    drain_seconds: float,
    bursts: list[int],
    log,
    subjects: list[str] | tuple[str, ...] = SUBJECTS,
    prefix: str = PREFIX,
) -> list[dict]:
    """Each subject platform's knee, then the broker alone's for each."""
    chosen = [Subject.parse(text) for text in subjects]
    platforms: list[PlatformResult] = []
    try:
        for subject in chosen:
            platforms.append(
                measure_platform(
                    bench,
                    subject=subject,
                    prefix=prefix,
                    rates=rates,
                    step_seconds=step_seconds,
                    drain_seconds=drain_seconds,
                    bursts=bursts if subject.bursts else [],
                    log=log,
                )
            )
    finally:
        drop_databases(server_url=bench.server_url, names=all_database_names(prefix))
    body_bytes = next(
        (p.body_bytes for p in platforms if p.subject.bursts), platforms[0].body_bytes
    )
    # One broker alone per topology and delivery (the store changes who
    # publishes, not the message work), with its first platform's events per
    # command.
    brokers: dict[tuple[bool, str], PlatformResult] = {}
    for platform in platforms:
        if platform.subject.broker not in brokers:
            brokers[platform.subject.broker] = measure_broker(
                platform=platform,
                body_bytes=body_bytes,
                rates=rates,
                step_seconds=step_seconds,
                drain_seconds=drain_seconds,
                bursts=bursts if platform.subject.bursts else [],
                log=log,
            )
    return rows(
        platforms,
        [brokers[platform.subject.broker] for platform in platforms],
        step_seconds=step_seconds,
    )


def rows(
    platforms: list[PlatformResult],
    brokers: list[PlatformResult],
    *,
    step_seconds: int,
) -> list[dict]:
    """Each platform's knee beside its broker alone's (``brokers[i]`` is
    ``platforms[i]``'s), its steps, its p99 at half its knee, its bursts."""
    found: list[dict] = []
    for platform, broker in zip(platforms, brokers, strict=True):
        subject = platform.subject
        name = subject.name
        platform_knee, broker_knee = knee_of(platform.steps), knee_of(broker.steps)
        bottleneck = _bottleneck(platform.steps)
        per_command = sum(platform.events_per_command.values())
        row = KNEE.row(
            subject=(
                f"{name} platform knee: highest rate with a flat backlog and "
                f"{LAG_MEASURED[subject.approach]} p99 < {P99_BOUND_MS:g} ms "
                f"({step_seconds} s steps)",
                [float(platform_knee)],
            ),
            baseline=(
                f"broker alone ({DELIVERY_NAMES[subject.delivery]}), same message "
                f"work ({per_command:.2f} events per command, fan-out "
                f"{fan_out(_topology(subject)):g}, "
                f"{len(broker_processes(subject))} processes)",
                [float(broker_knee)],
            ),
            target=("ge", TARGET_RATIO),
            note=(
                f"{_lower_bound(platform.steps, 'platform')}"
                f"{_lower_bound(broker.steps, 'broker')}"
                f"platform steps: {'; '.join(s.describe() for s in platform.steps)} "
                f"| broker steps: {'; '.join(s.describe() for s in broker.steps)}"
                f"{' | bounded by ' + bottleneck if bottleneck else ''}"
            ),
        )
        row["steps"] = {
            "platform": [s.as_dict() for s in platform.steps],
            "broker": [s.as_dict() for s in broker.steps],
        }
        row["body_bytes"] = platform.body_bytes
        row["events_per_command"] = platform.events_per_command
        found.append(row)
        found += _step_rows(subject, platform.steps, broker.steps)
        found += _half_knee_rows(subject, platform.steps, broker.steps)
        # A broker shared by two platforms (the same topology and delivery)
        # carries the bursts of the one that ran them.
        pairs = (
            zip(platform.bursts, broker.bursts, strict=True) if platform.bursts else ()
        )
        for measured, baseline in pairs:
            burst = BURST.row(
                subject=(
                    f"{name} platform drains a backlog of {measured['events']} "
                    "commands' events (consumers and projectors resumed together)",
                    [measured["events_per_second"]],
                ),
                baseline=(
                    f"broker alone drains {baseline['events']} events, same fan-out",
                    [baseline["events_per_second"]],
                ),
                note=(
                    f"platform: {_drain_note(measured)} | "
                    f"broker: {_drain_note(baseline)}"
                ),
            )
            burst["bursts"] = {"platform": measured, "broker": baseline}
            found.append(burst)
    return found


def _half_knee_rows(
    subject: Subject, platform: list[Step], broker: list[Step]
) -> list[dict]:
    """The p99 at the highest rate offered at or below half the platform's
    knee, beside the broker alone's at the same rate (target: at most 3x)."""
    half = knee_of(platform) / 2
    ours = [s for s in platform if s.rate <= half and s.p99_ms is not None]
    if not ours:
        return []
    step = ours[-1]
    other = next((s for s in broker if s.rate == step.rate), None)
    if other is None or not other.p99_ms:
        return []
    return [
        HALF_KNEE.row(
            subject=(
                f"{subject.name} platform at {step.rate} cmd/s (half its knee "
                f"or below): {LAG_MEASURED[subject.approach]} p99",
                [step.p99_ms],
            ),
            baseline=(
                f"broker alone at {step.rate} cmd/s: publish to receive p99",
                [other.p99_ms],
            ),
            target=("le", HALF_KNEE_P99_RATIO),
            note=f"{step.describe()} | broker: {other.describe()}",
        )
    ]


def _drain_note(drain: dict) -> str:
    left = "" if drain["drained"] else f", {drain['left_messages']} NOT drained"
    if not drain.get("settled", True):
        left += "; the earlier steps' backlog had not drained before it"
    return (
        f"{drain['events_per_second']:.1f} events/s: "
        f"{drain['waiting_messages']} messages waiting, {drain['seconds']} s{left}; "
        f"CPU {summary(drain['cpu'])}"
    )


def _step_rows(
    subject: Subject, platform: list[Step], broker: list[Step]
) -> list[dict]:
    by_rate = {step.rate: step for step in broker}
    found = []
    for step in platform:
        other = by_rate.get(step.rate)
        found.append(
            KNEE_STEPS.row(
                subject=(
                    f"{subject.name} platform at {step.rate} cmd/s: "
                    f"{LAG_MEASURED[subject.approach]} p99",
                    [step.p99_ms if step.p99_ms is not None else float("nan")],
                ),
                baseline=(
                    f"broker alone at {step.rate} cmd/s: publish to receive p99",
                    [
                        other.p99_ms
                        if other is not None and other.p99_ms is not None
                        else float("nan")
                    ],
                ),
                note=step.describe()
                + (f" | broker: {other.describe()}" if other is not None else ""),
            )
        )
    return found


def _lower_bound(steps: list[Step], who: str) -> str:
    """Said first when the highest rate offered passed: the knee is above it."""
    if steps and steps[-1].passed:
        return f"{who} passed the highest rate offered: its knee is a lower bound. "
    return ""


def _bottleneck(steps: list[Step]) -> str:
    """The busiest kind at the first failing step: where the CPU went."""
    failing = next((step for step in steps if not step.passed), None)
    if failing is None or not failing.cpu:
        return ""
    ours = {k: v for k, v in failing.cpu.items() if k != OTHER_WORK}
    kind, numbers = max(ours.items(), key=lambda item: item[1]["cores"] or 0)
    return f"{kind} at {numbers['cores']:.2f} core at {failing.rate} cmd/s"


def _topology(subject: Subject) -> Topology:
    read_side, delivery = subject.broker
    return platform_topology(read_side=read_side, delivery=delivery)


def broker_processes(subject: Subject) -> list[str]:
    """The broker alone's processes: a publisher per producer, a receiver per
    inbox, or under kinesis a reader per consumer of each stream."""
    topology = _topology(subject)
    publishers = [f"publish {p}" for p in topology.producers]
    if subject.delivery == "kinesis":
        return publishers + [
            f"read {p} for {c}"
            for p in topology.producers
            for c in topology.subscribers_of(p)
        ]
    return publishers + [f"receive {c}" for c in topology.consumers]

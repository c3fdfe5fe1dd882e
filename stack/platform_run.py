"""A whole platform under one approach: fresh databases, migrations, web servers.

The demo, the lab and the cross-service tests all start the platform this
way, so what a learner watches is what the tests check.

Over 400 lines because one run owns every process's lifecycle (start,
supervise, reset, stop); split, each part would need the others' state.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import boto3
import psycopg2

from shared_events.approaches import ApproachInfo, approach_info, parse_approach
from shared_events.configuration import (
    READ_DATABASE_NAMES,
    REPO_DIR,
    SERVICES,
    all_database_names,
    database_name,
)
from stack import postgres
from stack.connections import fetch_value, open_connection
from stack.gateway import start_gateway
from stack.loopback import free_port
from stack.moto_server import MotoServer, start_moto_server
from stack.process_table import (
    Kind,
    PlatformProcess,
    worker_processes,
)
from stack.processes import (
    STARTING_AT_ONCE,
    ServiceProcess,
    manage_command,
    service_environment,
    start_metered_worker,
    start_web,
)
from stack.span_receiver import SpanReceiver, prepare_database, start_span_receiver
from stack.tcp_proxy import TcpProxy

# A due outbox row older than this, while nothing was published for
# RELAY_PROGRESS_SECONDS, means the relay is alive but not relaying. The
# progress window is longer: on an overloaded machine one batch of 100 can
# take seconds to publish, and killing a slow relay only makes it slower.
RELAY_LIVENESS_SECONDS = 10.0
RELAY_PROGRESS_SECONDS = 30.0
# How long stop_all waits for a worker restart in progress to finish.
SUPERVISOR_STOP_TIMEOUT = 90.0
STUCK_RELAY_QUERY = (
    "SELECT EXISTS (SELECT 1 FROM event_outbox WHERE published_at IS NULL"
    " AND next_attempt_at < now() - %s * interval '1 second')"
    " AND NOT EXISTS (SELECT 1 FROM event_outbox"
    " WHERE published_at > now() - %s * interval '1 second')"
)


class PlatformStartError(RuntimeError):
    """The platform could not be prepared; the message carries the output."""


@dataclass
class PlatformRun:
    approach: str
    env: dict[str, str]
    token: str
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    workers: dict[str, ServiceProcess] = field(default_factory=dict)
    moto: MotoServer | None = None
    # Every process reaches the local AWS through this proxy, so a lab
    # scenario can cut the broker off (stack.tcp_proxy).
    broker_proxy: TcpProxy | None = None
    # The worker under each key (its process-table name), to restart it.
    worker_specs: dict[str, PlatformProcess] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    liveness_kills: dict[str, int] = field(default_factory=dict)
    started_at: dict[str, float] = field(default_factory=dict)
    # Workers stopped on purpose (a lab scenario's fault): not restarted.
    paused: set[str] = field(default_factory=set)
    # The one front door, once started (``start_gateway``).
    gateway: ServiceProcess | None = None
    # Where the run's processes send their spans (``running_platform(tracing=...)``).
    span_receiver: SpanReceiver | None = None
    # Each worker's metrics port (its /metrics), kept across its restarts.
    metrics_ports: dict[str, int] = field(default_factory=dict)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _supervisor: threading.Thread | None = None
    # Held by the supervisor while it restarts workers, and by
    # switch_approach while it swaps them: a worker restarted in the middle
    # of a swap would be left out of the run, and never stopped.
    _workers_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def info(self) -> ApproachInfo:
        return approach_info(self.approach)

    @property
    def uses_events(self) -> bool:
        return self.info.uses_events

    def start_web(self, service: str, *, port: int | None = None) -> ServiceProcess:
        self.services[service] = start_web(service, env=self.env, port=port)
        return self.services[service]

    def start_worker(self, spec: PlatformProcess) -> ServiceProcess:
        """Start one of the process table's workers, kept under its name."""
        self.worker_specs[spec.name] = spec
        return self._restart_worker(spec.name)

    def start_gateway(
        self,
        *,
        port: int | None = None,
        also: Mapping[str, int] | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> ServiceProcess:
        """The gateway in front of this run's web servers and of ``also``
        (other web processes by their table name, such as query processes
        started beside the run), on a free port unless told one."""
        web_ports = {
            f"{service}-web": process.port for service, process in self.services.items()
        }
        web_ports.update(also or {})
        self.gateway = start_gateway(
            web_ports=web_ports,
            port=port or free_port(),
            env={**self.env, **(extra_env or {})},
        )
        return self.gateway

    def supervise(self, interval: float = 0.5) -> None:
        """Restart a worker that died, as systemd or Kubernetes would.

        The Celery worker on SQS can die when the broker resets connections
        (kombu's SQS transport fails on some error answers); the outbox keeps
        every event meanwhile, and the restarted relay publishes it.
        """

        def watch() -> None:
            checked = time.monotonic()
            while not self._stopping.wait(interval):
                if time.monotonic() - checked > RELAY_LIVENESS_SECONDS / 2:
                    checked = time.monotonic()
                    self._kill_stuck_relays()
                with self._workers_lock:
                    self._restart_dead_workers()

        self._supervisor = threading.Thread(target=watch, daemon=True)
        self._supervisor.start()

    def _restart_dead_workers(self) -> None:
        for key, process in list(self.workers.items()):
            if process.running() or key in self.paused or self._stopping.is_set():
                continue
            self.restarts[key] = self.restarts.get(key, 0) + 1
            try:
                started = self._restart_worker(key)
            except Exception:  # try again on the next round
                continue
            if self._stopping.is_set():
                started.stop()  # stop_all came while it was starting

    def _restart_worker(self, key: str) -> ServiceProcess:
        """Start the worker recorded under ``key`` (again, after the first time)."""
        spec = self.worker_specs[key]
        started, self.metrics_ports[key] = start_metered_worker(
            spec.service,
            list(spec.command()),
            env={**self.env, **dict(spec.environment)},
            name=spec.kind.value,
            ready_text=spec.ready_text or "",
            metrics_port=self.metrics_ports.get(key),
        )
        self.workers[key] = started
        self.started_at[key] = time.monotonic()
        return started

    def consumer_keys(self) -> list[str]:
        """Every process that applies events: consumers and read-side projectors."""
        return sorted(
            key for key, spec in self.worker_specs.items() if spec.applies_events
        )

    def pause_workers(self, keys: list[str]) -> None:
        """Stop these workers and keep the supervisor from restarting them."""
        self.paused.update(keys)
        for key in keys:
            self.workers[key].stop()

    def resume_workers(self, keys: list[str]) -> None:
        """Start paused workers again; they pick up what waited in their queues."""
        for key in keys:
            if key in self.paused and not self.workers[key].running():
                self._restart_worker(key)
            self.paused.discard(key)

    def _kill_stuck_relays(self) -> None:
        """The liveness probe: a relay alive but not relaying is killed (and
        then restarted by the supervisor).

        Not relaying means: rows overdue by the liveness period, and nothing
        published during it. A relay that publishes but is behind (a load
        above what the machine relays) is slow, not hung; killing it would
        only put it further behind.

        kombu's SQS transport can leave a Celery worker running but deaf after
        the broker reset its connections; due outbox rows then stay due. A
        relay started less than the liveness period ago has not had its chance
        yet: after an outage (the database down while the supervisor tried to
        restart it) the rows it inherits are long overdue, and killing it for
        them would kill every new relay in turn.
        """
        for key, spec in list(self.worker_specs.items()):
            if spec.kind is not Kind.RELAY:
                continue
            service = spec.service
            process = self.workers.get(key)
            if process is None or not process.running():
                continue
            if time.monotonic() - self.started_at.get(key, 0) < RELAY_LIVENESS_SECONDS:
                continue
            try:
                stuck = fetch_value(
                    self.database_url(service),
                    STUCK_RELAY_QUERY,
                    [RELAY_LIVENESS_SECONDS, RELAY_PROGRESS_SECONDS],
                )
            except psycopg2.Error:
                continue
            if stuck:
                self.liveness_kills[service] = self.liveness_kills.get(service, 0) + 1
                process.kill()

    def stop_all(self) -> None:
        self._stopping.set()
        # A restart in progress finishes first, or its worker would outlive
        # the run (an orphan relay on the next run's same-named databases).
        if self._supervisor is not None:
            self._supervisor.join(timeout=SUPERVISOR_STOP_TIMEOUT)
        processes = [*self.workers.values(), *self.services.values()]
        if self.gateway is not None:
            processes.insert(0, self.gateway)
        # Every process is told first, then each is waited for: their graceful
        # shutdowns (a Celery worker's, gunicorn's) overlap instead of adding up.
        for process in processes:
            process.terminate()
        for process in processes:
            process.stop()
        # Last: the processes above flush their spans to it as they exit.
        if self.span_receiver is not None:
            self.span_receiver.stop()
        if self.broker_proxy is not None:
            self.broker_proxy.close()
        if self.moto is not None:
            self.moto.stop()

    def url(self, service: str) -> str:
        return self.services[service].base_url

    def database_url(self, service: str) -> str:
        name = database_name(
            service=service,
            approach=parse_approach(self.approach),
            prefix=self.env["DATABASE_NAME_PREFIX"],
        )
        return f"{self.env['DATABASE_SERVER_URL'].rstrip('/')}/{name}"

    def read_database_url(self, service: str) -> str:
        name = self.env["DATABASE_NAME_PREFIX"] + READ_DATABASE_NAMES[service]
        return f"{self.env['DATABASE_SERVER_URL'].rstrip('/')}/{name}"

    def restart_web(
        self, service: str, *, extra_env: dict[str, str] | None = None
    ) -> ServiceProcess:
        """Restart a service's web server on its port, with extra settings."""
        port = self.services[service].port
        self.services[service].stop()
        env = {**self.env, **(extra_env or {})}
        self.services[service] = start_web(service, env=env, port=port)
        return self.services[service]

    def switch_approach(self, approach: str) -> None:
        """Run this platform's processes on ``approach`` from now on, on the same
        databases and ports: what a learner does after ``approach migrate``
        (``strangler``) moved the data. The workers stop, the web servers
        restart on the new approach, and the approach's workers start
        (relays, consumers, projectors), with a local AWS of the run's own
        and its topology once the approach uses events."""
        with self._workers_lock:
            self._swap_workers(approach)
        if self.workers and self._supervisor is None:
            self.supervise()

    def _swap_workers(self, approach: str) -> None:
        for worker in self.workers.values():
            worker.stop()
        self.workers.clear()
        self.worker_specs.clear()
        # Fresh ports for the new workers' metrics: a stopped worker's port
        # may not be free again at once.
        self.metrics_ports.clear()
        self.approach = parse_approach(approach).value
        self.env["ARCHITECTURE_APPROACH"] = self.approach
        if self.uses_events and self.moto is None:
            self.moto = start_moto_server()
            self.env["AWS_ENDPOINT_URL"] = self.moto.endpoint_url
            prefix = self.env.get("DATABASE_NAME_PREFIX", "")
            self.env.setdefault("EVENT_TOPOLOGY_PREFIX", prefix.replace("_", "-"))
            # The inboxes exist before the first relay publishes.
            self.manage("customer", "aws_bootstrap")
        for service in list(self.services):
            self.restart_web(service)
        for spec in worker_processes(
            self.approach,
            delivery=self.env.get("EVENT_DELIVERY", "sns"),
            store=self.env.get("EVENT_STORE", "postgres"),
        ):
            self.start_worker(spec)

    def reset_data(self) -> None:
        """Empty every domain table (write and read side) and every queue, so the
        next lab scenario starts from nothing while the processes keep running."""
        urls = {self.database_url(service) for service in SERVICES}
        if self.info.read_side:
            urls |= {self.read_database_url(service) for service in SERVICES}
        if self.moto is not None:
            _purge_queues(self.moto.endpoint_url, self.env.get("EVENT_TOPOLOGY_PREFIX"))
        for url in sorted(urls):
            _truncate_domain_tables(url)

    def stop_service(self, service: str) -> None:
        self.services[service].stop()

    def create_user_with_password(self, username: str) -> str:
        """A staff user ``username`` in the customer service (where users sign
        in) with a new random password; the password, kept by the caller."""
        password = secrets.token_urlsafe(24)
        # createsuperuser is Django's one way to set a password without a prompt.
        created = subprocess.run(
            manage_command(
                "customer",
                "createsuperuser",
                "--noinput",
                *("--username", username, "--email", f"{username}@example.com"),
            ),
            cwd=REPO_DIR,
            env=service_environment(
                "customer",
                {
                    **self.env,
                    "DJANGO_SUPERUSER_PASSWORD": password,
                    # A one-off command: no request's trace to join.
                    "OTEL_SDK_DISABLED": "true",
                },
            ),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if created.returncode != 0:
            raise PlatformStartError(
                f"could not create the user {username}: {created.stderr[-2000:]}"
            )
        return password

    def manage(self, service: str, *args: str) -> subprocess.CompletedProcess:
        """Run ``manage.py --service SERVICE ARGS`` with this run's environment."""
        completed = subprocess.run(
            manage_command(service, *args),
            cwd=REPO_DIR,
            # A one-off command is not part of any request's story.
            env=service_environment(service, {**self.env, "OTEL_SDK_DISABLED": "true"}),
            capture_output=True,
            text=True,
        )
        if completed.returncode != 0:
            raise PlatformStartError(
                f"manage.py --service {service} {' '.join(args)} failed:\n"
                f"{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}"
            )
        return completed


def platform_environment(*, approach: str, server_url: str, prefix: str) -> dict:
    """The environment every process of one platform run shares."""
    return {
        "ARCHITECTURE_APPROACH": approach,
        "DATABASE_SERVER_URL": server_url,
        "DATABASE_NAME_PREFIX": prefix,
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY")
        or secrets.token_urlsafe(40),
        "CUSTOMER_SERVICE_TOKEN": os.environ.get("CUSTOMER_SERVICE_TOKEN")
        or secrets.token_urlsafe(40),
        "JWT_SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY")
        or secrets.token_urlsafe(40),
        # The lab's clients are load generators, not abusers: keep the per-user
        # throttle out of their measurements.
        "API_THROTTLE_USER": os.environ.get("API_THROTTLE_USER", "100000/min"),
        # /metrics answers this bearer token only (a worker's on METRICS_PORT).
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or secrets.token_urlsafe(40),
    }


def reset_databases(*, server_url: str, prefix: str) -> None:
    names = all_database_names(prefix)
    postgres.drop_databases(server_url=server_url, names=names)
    postgres.create_databases(server_url=server_url, names=names)


@contextmanager
def running_platform(
    *,
    approach: str,
    server_url: str,
    prefix: str,
    extra_env: dict[str, str] | None = None,
    start_event_workers: bool = True,
    broker_proxy: bool = True,
    tracing: bool = False,
) -> Iterator[PlatformRun]:
    """Fresh databases, both services migrated and serving, stopped on exit.

    Under the event-driven approaches the run also gets its own moto server
    (the local AWS), its topology, a consumer per service and, where there is
    an outbox, a Celery relay worker per service. The processes reach the
    local AWS through a TCP proxy that can cut them off (``broker_proxy``);
    without it (a benchmark's run) they talk to the moto server directly.

    With ``tracing`` every process exports its spans to a span receiver of
    the run's own (``stack.span_receiver``, into ``<prefix>telemetry``), and
    a gateway started on the run sends it its access log.
    """
    env = platform_environment(approach=approach, server_url=server_url, prefix=prefix)
    env.update(extra_env or {})
    customer_port = free_port()
    env["CUSTOMER_SERVICE_URL"] = f"http://127.0.0.1:{customer_port}"
    reset_databases(server_url=server_url, prefix=prefix)
    run = PlatformRun(approach=approach, env=env, token=secrets.token_hex(20))
    try:
        if tracing:
            run.span_receiver = start_span_receiver(
                database_url=prepare_database(
                    server_url=server_url, prefix=prefix, fresh=True
                )
            )
            env.update(run.span_receiver.spans_environment())
            # Spans reach the store within a fraction of a second.
            env.setdefault("OTEL_BSP_SCHEDULE_DELAY", "200")
        if run.uses_events:
            run.moto = start_moto_server()
            env["AWS_ENDPOINT_URL"] = run.moto.endpoint_url
            if broker_proxy:
                run.broker_proxy = TcpProxy(target_port=run.moto.port)
                env["AWS_ENDPOINT_URL"] = run.broker_proxy.url
            env.setdefault("EVENT_TOPOLOGY_PREFIX", prefix.replace("_", "-"))
        # Each service's databases migrated (the read one too) and its demo
        # user made; the inboxes subscribed before the first event is sent.
        preparing = [
            (service, "prepare_service", "--token", run.token) for service in SERVICES
        ]
        if run.uses_events:
            preparing.append(("customer", "aws_bootstrap"))
        if run.info.shares_database:
            # The customer service migrates first: the order service's
            # foreign key needs the customer table.
            for service, *command in preparing:
                run.manage(service, *command)
        else:
            with ThreadPoolExecutor(max_workers=len(preparing)) as pool:
                for done in [pool.submit(run.manage, *step) for step in preparing]:
                    done.result()
        # The processes start side by side, a few at a time: each spends its
        # first second or two importing Django, and then waits to be ready.
        with ThreadPoolExecutor(max_workers=STARTING_AT_ONCE) as pool:
            starting = [
                pool.submit(run.start_web, "customer", port=customer_port),
                pool.submit(run.start_web, "order"),
            ]
            if run.uses_events and start_event_workers:
                # The query side's own web servers are left to ``manage.py up``:
                # the lab reads the query API from the full process.
                starting += [
                    pool.submit(run.start_worker, spec)
                    for spec in worker_processes(
                        approach,
                        delivery=env.get("EVENT_DELIVERY", "sns"),
                        store=env.get("EVENT_STORE", "postgres"),
                    )
                ]
            # The first failure is raised once every start has ended: what
            # did start is then in the run, and stop_all stops it.
            for future in starting:
                future.result()
        if run.uses_events and start_event_workers:
            run.supervise()
        yield run
    finally:
        run.stop_all()


KEPT_TABLE_PREFIXES = ("django_", "auth_", "authtoken_")


def _truncate_domain_tables(url: str) -> None:
    with (
        open_connection(url, autocommit=True) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [
            name
            for (name,) in cursor.fetchall()
            if not name.startswith(KEPT_TABLE_PREFIXES)
        ]
        if tables:
            cursor.execute(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"
            )


def _purge_queues(endpoint: str, prefix: str | None) -> None:
    """Empty the dead-letter queues (the consumers drain the inboxes).

    PurgeQueue is allowed once a minute per queue, so messages are received
    and deleted instead.
    """
    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for url in sqs.list_queues(QueueNamePrefix=prefix or "").get("QueueUrls", []):
        if not url.endswith(("-dlq", "-dlq.fifo")):
            continue
        for _ in range(100):
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                break
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )

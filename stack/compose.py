"""``docker-compose.yml``, generated from the process table.

One compose service per process that some approach runs
(``stack.process_table.platform_processes``), plus the infrastructure every
approach starts: PostgreSQL, the local AWS (a moto server), a one-shot
``setup`` (migrations, the messaging topology, the demo user) that every
process waits for, and Prometheus. A process that only some approaches run carries those
approaches' compose profiles; one that every approach runs carries none, so
it always starts:

    ARCHITECTURE_APPROACH=cqrs_es docker compose --profile cqrs_es up --build

The gateway runs the official HAProxy image with a configuration generated
like the local one (``stack.gateway_config``) into
``deploy/gateway/haproxy.cfg``, beside which the compose file mounts it: its
upstreams are the containers' names, resolved through the compose network's
DNS, so the query routes find the query processes where an approach runs
them and the web processes' ``/api/query/`` otherwise.

Prometheus (its official image) scrapes every process with the bearer token
compose hands it as a secret (``METRICS_TOKEN``); its configuration is
generated from the same table (``stack.prometheus_config``) into
``deploy/prometheus/prometheus.yml``, and its alert rules are
``deploy/prometheus/alerts.yml``. A worker serves its metrics on
``METRICS_PORT`` on every interface of its container.

``python manage.py compose`` writes the generated files and ``--check`` fails
when any is out of date, so the containers cannot drift from what ``manage.py
up``, the lab and ``deploy/`` run.

Every container of the platform gets the settings of the README's
configuration table (``PLATFORM_ENVIRONMENT``): fixed where compose decides
them (the database server, the AWS endpoint), required secrets written as
``${NAME:?message}`` so compose refuses to start without them, and the
optional settings passed through from the shell or ``.env`` only when set,
so their defaults stay in the settings modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from shared_events.approaches import DEFAULT_APPROACH, Approach
from shared_events.configuration import REPO_DIR, SERVICES
from stack.database_roles import ROLE_PASSWORD_SECRETS
from stack.gateway_config import render_gateway_config
from stack.gateway_routes import GatewayLimits, Upstreams, platform_routes
from stack.process_table import (
    DEFAULT_PORTS,
    Kind,
    PlatformProcess,
    platform_processes,
)
from stack.prometheus_config import TOKEN_FILE, render_prometheus_config

COMPOSE_FILE = REPO_DIR / "docker-compose.yml"
# Where the gateway's configuration lives, relative to the compose file, and
# where the HAProxy image reads it.
GATEWAY_CONFIG = Path("deploy") / "gateway" / "haproxy.cfg"
GATEWAY_CONFIG_TARGET = "/usr/local/etc/haproxy/haproxy.cfg"
GATEWAY_IMAGE = "haproxy:2.6"
# Prometheus: the version whose promtool (Debian's, stack.prometheus_binary)
# checks the configuration and the rules the image then runs.
PROMETHEUS_IMAGE = "prom/prometheus:v2.42.0"
PROMETHEUS_DIR = Path("deploy") / "prometheus"
PROMETHEUS_CONFIG = PROMETHEUS_DIR / "prometheus.yml"
PROMETHEUS_RULES = PROMETHEUS_DIR / "alerts.yml"
PROMETHEUS_TARGET_DIR = "/etc/prometheus"
PROMETHEUS_PORT = 9090
# Compose mounts a secret at /run/secrets/<its name>, where Prometheus reads it.
METRICS_TOKEN_SECRET = Path(TOKEN_FILE).name
# Jaeger: where every container's spans go (OTLP over HTTP), its UI on the host.
JAEGER_IMAGE = "jaegertracing/all-in-one:1.62.0"
JAEGER_OTLP_PORT = 4318
JAEGER_UI_PORT = 16686
PROJECT_NAME = "microservices-lab"
IMAGE = "microservices-lab:local"
POSTGRES_IMAGE = "postgres:16"
POSTGRES_VOLUME = "postgres-data"
# Inside the compose network every web server listens on the same port; the
# host reaches it on the port ``manage.py up`` uses (``DEFAULT_PORTS``).
HTTP_PORT = 8000
# Where a worker serves its /metrics inside its container.
METRICS_PORT = 9100
MOTO_PORT = 5000
HEALTH_PATH = "/api/health/"
MOTO_PROBE_PATH = "/moto-api/config"

POSTGRES = "postgres"
MOTO = "moto"
SETUP = "setup"
PROMETHEUS = "prometheus"
JAEGER = "jaeger"
# What every approach starts besides its processes (Prometheus scrapes them,
# Jaeger receives their spans).
INFRASTRUCTURE = (POSTGRES, MOTO, SETUP, PROMETHEUS, JAEGER)

SETUP_COMMANDS = (
    # Creates every database an approach may need (stack.environment.prepare)
    # and migrates both services, and the read databases under cqrs_es.
    "python manage.py migrate",
    "python manage.py --service customer aws_bootstrap",
    "python manage.py create_demo_user",
)


def _required(name: str) -> str:
    """``${NAME:?message}``: compose refuses to start while NAME is unset."""
    return f"${{{name}:?set it in the environment or in .env}}"


# How each setting reaches the platform's containers. ``None`` passes the
# value through from the shell or .env when it is set there, and leaves it
# unset otherwise (compose's ``NAME:`` with no value).
PLATFORM_ENVIRONMENT: dict[str, str | None] = {
    "ARCHITECTURE_APPROACH": f"${{ARCHITECTURE_APPROACH:-{DEFAULT_APPROACH.value}}}",
    # The compose PostgreSQL; database names follow the approach. The
    # password goes into a URL: choose one without URL-reserved characters.
    "DATABASE_SERVER_URL": (
        f"postgres://postgres:{_required('POSTGRES_PASSWORD')}@{POSTGRES}:5432"
    ),
    "DATABASE_NAME_PREFIX": None,
    "DJANGO_SECRET_KEY": _required("DJANGO_SECRET_KEY"),
    "CUSTOMER_SERVICE_TOKEN": _required("CUSTOMER_SERVICE_TOKEN"),
    "JWT_SIGNING_KEY": _required("JWT_SIGNING_KEY"),
    # Each producer signs its events (shared_events/event_keys.py); the
    # verifying keys, unset, are derived from these secrets.
    "CUSTOMER_EVENT_SIGNING_KEY": _required("CUSTOMER_EVENT_SIGNING_KEY"),
    "ORDER_EVENT_SIGNING_KEY": _required("ORDER_EVENT_SIGNING_KEY"),
    "CUSTOMER_EVENT_VERIFYING_KEYS": None,
    "ORDER_EVENT_VERIFYING_KEYS": None,
    # The passwords of the roles the services connect as (stack/database_roles.py):
    # every container sets them again at start, so all must be given the same.
    **{name: _required(name) for name in ROLE_PASSWORD_SECRETS},
    "CUSTOMER_SERVICE_TIMEOUT": None,
    "CUSTOMER_SERVICE_RETRIES": None,
    "CREDIT_LIMIT": None,
    "JWT_ACCESS_MINUTES": None,
    "JWT_REFRESH_HOURS": None,
    # The moto server; boto3 then uses moto's local credentials.
    "AWS_ENDPOINT_URL": f"http://{MOTO}:{MOTO_PORT}",
    "AWS_REGION": None,
    "EVENT_TOPOLOGY_PREFIX": None,
    "EVENT_DELIVERY": None,
    "EVENT_FIFO": None,
    "EVENT_MAX_RECEIVE_COUNT": None,
    "EVENT_GAP_PATIENCE_SECONDS": None,
    "EVENT_KINESIS_SHARDS": None,
    "EVENT_STORE": None,
    "EVENT_RELAY_WAKE": None,
    "EVENT_RELAY_SWEEP_SECONDS": None,
    "API_THROTTLE_USER": None,
    "API_THROTTLE_ANON": None,
    "API_MAX_BODY_BYTES": None,
    "API_NUM_PROXIES": None,
    "CACHE_URL": None,
    "FAULT_INJECTION": None,
    # Every process's /metrics answers this bearer token only; a worker
    # serves it on METRICS_PORT, to Prometheus in another container.
    "METRICS_TOKEN": _required("METRICS_TOKEN"),
    "METRICS_PORT": str(METRICS_PORT),
    "METRICS_BIND": "0.0.0.0",
    "METRICS_ENABLED": None,
    # Every process's spans go to Jaeger (each container is named by its
    # process: OTEL_SERVICE_NAME, set per container); OTEL_SDK_DISABLED=true
    # in .env turns tracing off.
    "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{JAEGER}:{JAEGER_OTLP_PORT}",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    "OTEL_SDK_DISABLED": None,
    "LOG_FORMAT": None,
}

# Only the order service calls the customer service (db_per_service).
ORDER_ENVIRONMENT = {"CUSTOMER_SERVICE_URL": f"http://customer-web:{HTTP_PORT}"}

# Settings of the configuration table no container receives, and why.
NOT_PASSED = {
    "CUSTOMER_DATABASE_URL": "the databases are the compose PostgreSQL's, "
    "named from DATABASE_SERVER_URL",
    "ORDER_DATABASE_URL": "as CUSTOMER_DATABASE_URL",
    "SHARED_DATABASE_URL": "as CUSTOMER_DATABASE_URL",
    "PROMETHEUS_MULTIPROC_DIR": "manage.py serve sets it for its gunicorn "
    "workers, a fresh folder per server",
    "GATEWAY_SPAN_LOG": "the local span receiver's; the compose gateway's "
    "access log stays in its container log (Jaeger takes spans, not logs)",
}


def all_processes() -> dict[str, tuple[PlatformProcess, list[Approach]]]:
    """Every process some approach runs, by name, with the approaches that run it."""
    processes: dict[str, tuple[PlatformProcess, list[Approach]]] = {}
    for approach in Approach:
        for process in platform_processes(approach):
            if process.name not in processes:
                processes[process.name] = (process, [])
            processes[process.name][1].append(approach)
    # In the table's start order: web servers, query servers, consumers...
    # and the gateway, which belongs to no service, last.
    kinds = list(Kind)
    return dict(
        sorted(
            processes.items(),
            key=lambda item: (
                kinds.index(item[1][0].kind),
                SERVICES.index(item[1][0].service) if item[1][0].service else 0,
            ),
        )
    )


def container_command(process: PlatformProcess) -> list[str]:
    """What a process's container runs (a web server binds every interface)."""
    return [
        "python",
        "manage.py",
        "--service",
        process.service,
        *process.command(bind=f"0.0.0.0:{HTTP_PORT}"),
    ]


def allowed_hosts() -> str:
    """The host names a web server answers to: loopback (its health check) and
    every web server's compose name (the order service calls customer-web)."""
    names = [name for name, (p, _) in all_processes().items() if p.serves_http]
    return ",".join(["localhost", "127.0.0.1", *names])


def platform_environment(service: str) -> dict[str, str | None]:
    environment = dict(PLATFORM_ENVIRONMENT)
    environment["DJANGO_ALLOWED_HOSTS"] = (
        f"${{DJANGO_ALLOWED_HOSTS:-{allowed_hosts()}}}"
    )
    if service == "order":
        environment.update(ORDER_ENVIRONMENT)
    return environment


def _http_check(url: str) -> list[str]:
    # The image has Python but no curl; urlopen fails on any answer but 2xx.
    return [
        "CMD",
        "python",
        "-c",
        f'import urllib.request; urllib.request.urlopen("{url}", timeout=3)',
    ]


def _build() -> dict[str, Any]:
    return {"context": ".", "dockerfile": "Dockerfile"}


def process_service(
    process: PlatformProcess, approaches: list[Approach], published_port: int | None
) -> dict[str, Any]:
    service: dict[str, Any] = {"image": IMAGE, "build": _build()}
    if set(approaches) != set(Approach):
        service["profiles"] = [approach.value for approach in approaches]
    service["command"] = container_command(process)
    environment = platform_environment(process.service)
    environment.update(dict(process.environment))
    environment["OTEL_SERVICE_NAME"] = process.name
    service["environment"] = environment
    service["depends_on"] = {SETUP: {"condition": "service_completed_successfully"}}
    if process.serves_http:
        if published_port is not None:
            service["ports"] = [f"127.0.0.1:{published_port}:{HTTP_PORT}"]
        service["healthcheck"] = {
            "test": _http_check(f"http://127.0.0.1:{HTTP_PORT}{HEALTH_PATH}"),
            "interval": "10s",
            "timeout": "5s",
            "retries": 5,
            "start_period": "20s",
        }
    # tini as PID 1: a consumer's Python stops on SIGTERM, zombies are reaped.
    service["init"] = True
    service["restart"] = "unless-stopped"
    return service


def gateway_service(published_port: int | None) -> dict[str, Any]:
    """HAProxy's own image, the generated configuration mounted read-only.

    It waits for the web servers every approach runs; the query processes
    are resolved when (and if) they start. The image has no HTTP client for
    a health check: ``manage.py status``'s probe, ``/api/health/``, answers
    from the host.
    """
    return {
        "image": GATEWAY_IMAGE,
        "command": ["haproxy", "-f", GATEWAY_CONFIG_TARGET],
        "environment": {"JWT_SIGNING_KEY": _required("JWT_SIGNING_KEY")},
        "volumes": [f"./{GATEWAY_CONFIG.as_posix()}:{GATEWAY_CONFIG_TARGET}:ro"],
        "depends_on": {
            f"{service}-web": {"condition": "service_healthy"} for service in SERVICES
        },
        "ports": [f"127.0.0.1:{published_port}:{HTTP_PORT}"],
        "restart": "unless-stopped",
    }


def render_gateway_compose_config() -> str:
    """The compose gateway's HAProxy configuration: the containers by name."""
    names = [
        name for name, (process, _) in all_processes().items() if process.serves_http
    ]
    return render_gateway_config(
        routes=platform_routes(names, fallbacks=True),
        upstreams=Upstreams(
            addresses={name: f"{name}:{HTTP_PORT}" for name in names},
            compose_dns=True,
        ),
        bind=f":{HTTP_PORT}",
        limits=GatewayLimits(),
    )


def prometheus_service() -> dict[str, Any]:
    """Prometheus's image, the generated configuration and the alert rules
    mounted read-only, the metrics token as a compose secret (a file, which
    is how Prometheus reads a bearer token). It scrapes; it serves its UI on
    the host's loopback."""
    mounts = [
        f"./{path.as_posix()}:{PROMETHEUS_TARGET_DIR}/{path.name}:ro"
        for path in (PROMETHEUS_CONFIG, PROMETHEUS_RULES)
    ]
    return {
        "image": PROMETHEUS_IMAGE,
        "command": [
            f"--config.file={PROMETHEUS_TARGET_DIR}/{PROMETHEUS_CONFIG.name}",
            "--storage.tsdb.path=/prometheus",
        ],
        "volumes": mounts,
        "secrets": [METRICS_TOKEN_SECRET],
        "depends_on": {SETUP: {"condition": "service_completed_successfully"}},
        "ports": [f"127.0.0.1:{PROMETHEUS_PORT}:{PROMETHEUS_PORT}"],
        "restart": "unless-stopped",
    }


def jaeger_service() -> dict[str, Any]:
    """Jaeger all-in-one: receives every process's spans over OTLP/HTTP and
    shows the traces on the host's loopback (its UI)."""
    return {
        "image": JAEGER_IMAGE,
        "environment": {"COLLECTOR_OTLP_ENABLED": "true"},
        "ports": [f"127.0.0.1:{JAEGER_UI_PORT}:{JAEGER_UI_PORT}"],
        "restart": "unless-stopped",
    }


def render_compose_prometheus_config() -> str:
    """Prometheus's scrape configuration: every container of the table."""
    return render_prometheus_config(
        [process for process, _ in all_processes().values()],
        http_port=HTTP_PORT,
        metrics_port=METRICS_PORT,
    )


def infrastructure_services() -> dict[str, dict[str, Any]]:
    return {
        POSTGRES: {
            "image": POSTGRES_IMAGE,
            "environment": {"POSTGRES_PASSWORD": _required("POSTGRES_PASSWORD")},
            "volumes": [f"{POSTGRES_VOLUME}:/var/lib/postgresql/data"],
            "healthcheck": {
                "test": ["CMD", "pg_isready", "--username", "postgres"],
                "interval": "5s",
                "timeout": "5s",
                "retries": 10,
            },
            "restart": "unless-stopped",
        },
        MOTO: {
            "image": IMAGE,
            "build": _build(),
            "command": [
                "python",
                "-m",
                "moto.server",
                "-H",
                "0.0.0.0",
                "-p",
                str(MOTO_PORT),
            ],
            "healthcheck": {
                "test": _http_check(f"http://127.0.0.1:{MOTO_PORT}{MOTO_PROBE_PATH}"),
                "interval": "5s",
                "timeout": "5s",
                "retries": 10,
            },
            "init": True,
            "restart": "unless-stopped",
        },
        SETUP: {
            "image": IMAGE,
            "build": _build(),
            "command": ["sh", "-c", " && ".join(SETUP_COMMANDS)],
            # One-off commands: no request's trace to join.
            "environment": {
                **platform_environment("customer"),
                "OTEL_SDK_DISABLED": "true",
            },
            "depends_on": {
                POSTGRES: {"condition": "service_healthy"},
                MOTO: {"condition": "service_healthy"},
            },
            "restart": "no",
        },
    }


def compose_document() -> dict[str, Any]:
    """The compose file as data: infrastructure first, then the process table."""
    services = infrastructure_services()
    for name, (process, approaches) in all_processes().items():
        if process.kind is Kind.GATEWAY:
            services[name] = gateway_service(DEFAULT_PORTS.get(name))
            continue
        services[name] = process_service(process, approaches, DEFAULT_PORTS.get(name))
    services[PROMETHEUS] = prometheus_service()
    services[JAEGER] = jaeger_service()
    return {
        "name": PROJECT_NAME,
        "services": services,
        "volumes": {POSTGRES_VOLUME: {}},
        "secrets": {METRICS_TOKEN_SECRET: {"environment": "METRICS_TOKEN"}},
    }


HEADER = """\
# GENERATED by `python manage.py compose` from stack/process_table.py (the
# processes) and stack/compose.py (the rest): do not edit by hand. Change
# those and run `python manage.py compose` again; `python manage.py compose
# --check` fails while this file is out of date.
#
# The whole platform in containers: one service per process of the process
# table, PostgreSQL, the local AWS (moto) and a one-shot setup (migrate,
# aws_bootstrap, create_demo_user) the processes wait for; the gateway
# (HAProxy, deploy/gateway/haproxy.cfg) on port 8000 in front of them;
# Prometheus (deploy/prometheus/) scraping them all, on port 9090; Jaeger
# receiving their spans, its UI on port 16686. The
# processes an approach adds carry that approach's profile; run one approach
# with:
#
#   ARCHITECTURE_APPROACH=cqrs_es docker compose --profile cqrs_es up --build
#
# (or set ARCHITECTURE_APPROACH and COMPOSE_PROFILES in .env). With neither,
# db_per_service runs. POSTGRES_PASSWORD, DJANGO_SECRET_KEY,
# CUSTOMER_SERVICE_TOKEN, JWT_SIGNING_KEY, CUSTOMER_EVENT_SIGNING_KEY,
# ORDER_EVENT_SIGNING_KEY and METRICS_TOKEN must be set: there are no
# defaults. The demo user's token: `docker compose logs setup`.
"""


class _Dumper(yaml.SafeDumper):
    """Plain YAML: every mapping written out in full, no anchors or aliases;
    a list of plain values on one line; a value passed through left empty."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = all(isinstance(item, str | int) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_none(dumper: yaml.SafeDumper, data: None) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:null", "")


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(type(None), _represent_none)


def render_compose(document: dict[str, Any] | None = None) -> str:
    """The compose file's text: the header comment, then the document as YAML."""
    body = yaml.dump(
        document if document is not None else compose_document(),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        width=120,
    )
    return HEADER + "\n" + body


def generated_files(compose_file: Path = COMPOSE_FILE) -> dict[Path, str]:
    """Each file ``manage.py compose`` writes, and its content: the compose
    file and, beside it, the gateway's and Prometheus's configurations it
    mounts."""
    return {
        compose_file: render_compose(),
        compose_file.parent / GATEWAY_CONFIG: render_gateway_compose_config(),
        compose_file.parent / PROMETHEUS_CONFIG: render_compose_prometheus_config(),
    }


def write_compose(path: Path = COMPOSE_FILE) -> bool:
    """Write the compose file and the gateway's configuration; return whether
    any content changed."""
    changed = False
    for target, text in generated_files(path).items():
        if target.exists() and target.read_text() == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        changed = True
    return changed


def compose_is_current(path: Path = COMPOSE_FILE) -> bool:
    return all(
        target.exists() and target.read_text() == text
        for target, text in generated_files(path).items()
    )

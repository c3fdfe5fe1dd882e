"""The gateway as a running process: HAProxy in front of the web processes.

``manage.py up`` and the tests start it the same way: a configuration
generated from the process table (``stack.gateway_routes``, rendered by
``stack.gateway_config``) for the web
processes running now, written under ``var/run/``, and HAProxy
(``stack.gateway_binary``) in the foreground in a process group of its own,
its output (the JSON access log) kept in ``var/logs/`` like every other
process's. Ready means its own health check answers.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping

from shared_events.configuration import REPO_DIR, VAR_DIR
from stack.gateway_binary import ensure_haproxy
from stack.gateway_config import render_gateway_config
from stack.gateway_routes import (
    COCKPIT_PROCESS,
    HEALTH_PATH,
    GatewayLimits,
    Upstreams,
    cockpit_route,
    platform_routes,
)
from stack.processes import LOG_DIR, ProcessStartError, ServiceProcess, wait_healthy

RUN_DIR = VAR_DIR / "run"
NAME = "gateway"


def local_gateway_config(
    *,
    web_ports: Mapping[str, int],
    port: int,
    limits: GatewayLimits,
    span_log: str | None = None,
    cockpit_port: int | None = None,
) -> str:
    """The configuration for a gateway on loopback ``port`` in front of the web
    processes listening on ``web_ports`` (process name -> port), and of the
    cockpit on ``cockpit_port`` as the default route if given."""
    routes = platform_routes(web_ports)
    addresses = {name: f"127.0.0.1:{p}" for name, p in web_ports.items()}
    if cockpit_port is not None:
        routes = [cockpit_route(), *routes]
        addresses[COCKPIT_PROCESS] = f"127.0.0.1:{cockpit_port}"
    return render_gateway_config(
        span_log=span_log,
        routes=routes,
        upstreams=Upstreams(addresses=addresses),
        bind=f"127.0.0.1:{port}",
        limits=limits,
    )


def start_gateway(
    *,
    web_ports: Mapping[str, int],
    port: int,
    env: Mapping[str, str],
    ready_timeout: float = 30.0,
    cockpit_port: int | None = None,
) -> ServiceProcess:
    """Start HAProxy on ``port`` in front of ``web_ports`` (and of the cockpit
    on ``cockpit_port``, its default route); wait until it answers.

    ``env`` is the platform's (``JWT_SIGNING_KEY``, the ``GATEWAY_*``
    limits, ``GATEWAY_SPAN_LOG``), on top of this process's environment.
    """
    environment = {**os.environ, **env}
    if not environment.get("JWT_SIGNING_KEY"):
        raise ProcessStartError(
            "the gateway verifies JWTs with JWT_SIGNING_KEY, which is not set"
        )
    # HAProxy gets the one secret it needs, not the databases' passwords.
    haproxy_environment = {
        "PATH": environment.get("PATH", os.defpath),
        "JWT_SIGNING_KEY": environment["JWT_SIGNING_KEY"],
    }
    binary = ensure_haproxy()
    config = RUN_DIR / f"{NAME}-{port}.cfg"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        local_gateway_config(
            web_ports=web_ports,
            port=port,
            limits=GatewayLimits.from_environment(environment),
            span_log=environment.get("GATEWAY_SPAN_LOG") or None,
            cockpit_port=cockpit_port,
        )
    )
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{NAME}-{port}.log"
    log_file = open(log_path, "w")  # noqa: SIM115 (closed by ServiceProcess.stop)
    process = subprocess.Popen(
        # -db: in the foreground, logging to stdout; SIGTERM stops it.
        [str(binary), "-db", "-f", str(config)],
        cwd=REPO_DIR,
        env=haproxy_environment,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    gateway = ServiceProcess(NAME, port, process, log_path, log_file)
    wait_healthy(gateway, timeout=ready_timeout, path=HEALTH_PATH, what="the gateway")
    return gateway

"""Real service processes on loopback ports, for the demo, the lab and tests.

Each service runs under gunicorn (a real WSGI server, as in production) in
its own process group, so stopping a service is what a learner would do to
it: a signal to the process, not a flag in the code.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from shared_events.configuration import REPO_DIR, VAR_DIR
from stack import environment
from stack.loopback import free_port

SETTINGS_MODULES = {
    "customer": "customer_service.config.settings",
    "order": "order_service.config.settings",
    # A service that joins the running platform later (shared_events.configuration).
    "analytics": "analytics_service.config.settings",
}
LOG_DIR = VAR_DIR / "logs"
# Processes started at once when a platform comes up: each spends its first
# second or two importing Django, then waits to be ready (two cores).
STARTING_AT_ONCE = 4


class ProcessStartError(RuntimeError):
    """A service process did not come up; the message carries its log tail."""


def manage_command(service: str, *args: str) -> list[str]:
    """The command line of ``manage.py --service SERVICE ARGS``, in this Python."""
    return [sys.executable, str(REPO_DIR / "manage.py"), "--service", service, *args]


def service_environment(
    service: str, overrides: dict[str, str], *, process: str | None = None
) -> dict[str, str]:
    """The environment of one of ``service``'s processes; ``process`` (web,
    query, consumer...) names it in its spans unless ``OTEL_SERVICE_NAME``
    is set."""
    env = dict(os.environ)
    env.update(overrides)
    if process is not None:
        env.setdefault("OTEL_SERVICE_NAME", f"{service}-{process}")
    env["SERVICE"] = service
    env["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULES[service]
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_DIR), env.get("PYTHONPATH")])
    )
    return env


@dataclass
class ServiceProcess:
    service: str
    port: int
    process: subprocess.Popen
    log_path: Path
    _log_file: object = field(repr=False, default=None)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def terminate(self) -> None:
        """SIGTERM the process group and return: ``stop`` waits for it."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self, *, timeout: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL what is left."""
        if self.running():
            try:
                self.terminate()
                self.process.wait(timeout=timeout)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def start_web(
    service: str,
    *,
    env: dict[str, str],
    port: int | None = None,
    workers: int = 2,
    ready_timeout: float = 30.0,
) -> ServiceProcess:
    """Start a service's web server (``manage.py serve``, gunicorn) and wait
    until its health check answers."""
    port = port or free_port()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{service}-web-{port}.log"
    log_file = open(log_path, "w")  # noqa: SIM115 (closed by ServiceProcess.stop)
    command = manage_command(
        service, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)
    )
    process = subprocess.Popen(
        command,
        cwd=REPO_DIR,
        env=service_environment(
            service,
            env,
            process="query" if env.get("QUERY_SIDE_ONLY") == "true" else "web",
        ),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    started = ServiceProcess(service, port, process, log_path, log_file)
    wait_healthy(started, timeout=ready_timeout)
    return started


def start_worker(
    service: str,
    command: list[str],
    *,
    env: dict[str, str],
    name: str,
    ready_text: str,
    ready_timeout: float = 60.0,
) -> ServiceProcess:
    """Start a background process (``manage.py --service S COMMAND``).

    Waits until ``ready_text`` shows in its log, so a caller never races a
    consumer that is not polling yet.
    """
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{service}-{name}-{os.getpid()}-{time.monotonic_ns()}.log"
    log_file = open(log_path, "w")  # noqa: SIM115 (closed by ServiceProcess.stop)
    process = subprocess.Popen(
        manage_command(service, *command),
        cwd=REPO_DIR,
        env=service_environment(
            service, {**env, "PYTHONUNBUFFERED": "1"}, process=name
        ),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = ServiceProcess(service, 0, process, log_path, log_file)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if not worker.running():
            raise ProcessStartError(
                f"the {service} {name} exited while starting:\n{worker.log_tail()}"
            )
        if ready_text in log_path.read_text(errors="replace"):
            return worker
        time.sleep(0.1)
    worker.stop()
    raise ProcessStartError(
        f"the {service} {name} was not ready within {ready_timeout:.0f}s:\n"
        f"{worker.log_tail()}"
    )


# What a worker prints when its METRICS_PORT was bound by another process
# between the moment it was chosen and the moment the worker bound it.
PORT_TAKEN = "Address already in use"
METRICS_PORT_ATTEMPTS = 3


def start_metered_worker(
    service: str,
    command: list[str],
    *,
    env: dict[str, str],
    name: str,
    ready_text: str,
    metrics_port: int | None = None,
) -> tuple[ServiceProcess, int]:
    """``start_worker`` serving /metrics on ``metrics_port`` (a free one if
    None), and the port it serves on.

    A free port is only free when chosen: on a busy machine (the test lanes
    side by side) another process may bind it before the worker does, and
    the worker exits with "Address already in use". Then a fresh port is
    chosen, a few times, instead of failing the whole platform's start.
    """
    port, attempt = metrics_port or free_port(), 1
    while True:
        try:
            worker = start_worker(
                service,
                command,
                env={**env, "METRICS_PORT": str(port)},
                name=name,
                ready_text=ready_text,
            )
            return worker, port
        except ProcessStartError as error:
            if PORT_TAKEN not in str(error) or attempt == METRICS_PORT_ATTEMPTS:
                raise
        port, attempt = free_port(), attempt + 1


def wait_healthy(
    process: ServiceProcess,
    *,
    timeout: float,
    path: str = "/api/health/",
    what: str | None = None,
) -> None:
    """Wait until ``process`` answers 200 on ``path``; stop it and say why if not."""
    what = what or f"the {process.service} service"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.running():
            process.stop()
            raise ProcessStartError(
                f"{what} exited while starting:\n{process.log_tail()}"
            )
        try:
            response = requests.get(f"{process.base_url}{path}", timeout=1)
            if response.status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    process.stop()
    raise ProcessStartError(
        f"{what} did not answer {path} within {timeout:.0f}s:\n{process.log_tail()}"
    )


def run_services_foreground(*, customer_port: int, order_port: int) -> int:
    """``manage.py up``: both services on fixed ports until Ctrl-C."""
    environment.prepare()
    overrides = {"CUSTOMER_SERVICE_URL": f"http://127.0.0.1:{customer_port}"}
    customer = start_web("customer", env=overrides, port=customer_port)
    try:
        order = start_web("order", env=overrides, port=order_port)
    except Exception:
        customer.stop()
        raise
    print(f"customer service: {customer.base_url}/api/docs/  (log {customer.log_path})")
    print(f"order service:    {order.base_url}/api/docs/  (log {order.log_path})")
    print("Ctrl-C stops both.")
    try:
        while customer.running() and order.running():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        order.stop()
        customer.stop()
    return 0

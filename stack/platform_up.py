"""``manage.py up``: every process one approach needs, supervised, in the foreground.

What runs comes from the process table (``stack.process_table``); this
module only keeps it running:

- each process starts as ``manage.py --service <service> ...`` (the
  gateway: HAProxy, ``stack.gateway``, once the web servers answer) in a
  process group of its own, its output kept in ``var/logs/`` and shown as
  one stream, every line prefixed with the process's name;
- a process that exits is started again, after 1 s, then 2, 4 ... up to 30 s
  while it keeps dying young (a crash loop must not spin the machine);
- ``var/run/up.json`` says what runs (pid, start, restarts, URL), for
  ``manage.py status``; ``manage.py stop`` reads it too;
- Ctrl-C, SIGTERM or SIGHUP stop every process (SIGTERM to its group, then
  SIGKILL), then the local AWS and the embedded PostgreSQL if this run
  started them.

The platform keeps its own small supervisor instead of supervisord or honcho
because the lab drives the same processes programmatically (a worker paused
as a fault, a relay killed when it stops relaying) and honcho restarts
nothing; the loop below is what a learner needs to read to see how.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from shared_events.configuration import VAR_DIR
from stack.gateway import start_gateway
from stack.gateway_binary import ensure_haproxy
from stack.process_state import running
from stack.process_table import (
    DEFAULT_PORTS,
    Kind,
    PlatformProcess,
    platform_processes,
)
from stack.processes import (
    STARTING_AT_ONCE,
    ProcessStartError,
    ServiceProcess,
    start_metered_worker,
    start_web,
)

STATUS_FILE = VAR_DIR / "run" / "up.json"
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
# A process that ran this long before it exited was not crash-looping: the
# next restart waits FIRST_BACKOFF_SECONDS again.
STABLE_SECONDS = 60.0


class UpStopped(Exception):
    """A stop signal arrived (SIGTERM, SIGHUP)."""


@dataclass
class Supervised:
    spec: PlatformProcess
    port: int | None
    process: ServiceProcess | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = FIRST_BACKOFF_SECONDS
    next_start: float = 0.0
    last_error: str = ""
    # A worker's /metrics port (METRICS_PORT), kept across its restarts.
    metrics_port: int | None = None

    @property
    def url(self) -> str | None:
        return f"http://127.0.0.1:{self.port}" if self.port else None

    def running(self) -> bool:
        return self.process is not None and self.process.running()


@dataclass
class PlatformUp:
    """The processes of one approach and the loop that keeps them up."""

    approach: str
    env: dict[str, str]
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    # The backends (EVENT_DELIVERY, EVENT_STORE): they change which workers run.
    delivery: str = "sns"
    store: str = "postgres"
    output: object = sys.stdout
    supervised: list[Supervised] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _offsets: dict[str, tuple[Path, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.supervised = [
            Supervised(spec, self.ports.get(spec.name) if _listens(spec) else None)
            for spec in platform_processes(
                self.approach, delivery=self.delivery, store=self.store
            )
        ]

    # Starting and restarting ------------------------------------------------

    def start_all(self) -> None:
        if any(entry.spec.kind is Kind.GATEWAY for entry in self.supervised):
            # Fetched before anything starts (once per machine), and if it
            # cannot be, the whole message says what to run.
            ensure_haproxy()
        # The gateway last: it leads to the others. They start side by side.
        first = [e for e in self.supervised if e.spec.kind is not Kind.GATEWAY]
        with ThreadPoolExecutor(max_workers=STARTING_AT_ONCE) as pool:
            list(pool.map(self._start, first))
        for entry in self.supervised:
            if entry.spec.kind is Kind.GATEWAY:
                self._start(entry)
        for entry in self.supervised:
            if not entry.running():
                raise ProcessStartError(
                    f"{entry.spec.name} did not start: {entry.last_error}"
                )

    def _start(self, entry: Supervised) -> None:
        spec = entry.spec
        env = {**self.env, **dict(spec.environment)}
        try:
            if spec.kind is Kind.GATEWAY:
                entry.process = start_gateway(
                    web_ports={
                        other.spec.name: other.port
                        for other in self.supervised
                        if other.spec.serves_http
                    },
                    port=entry.port,
                    env=env,
                )
            elif spec.serves_http:
                entry.process = start_web(spec.service, env=env, port=entry.port)
            else:
                entry.process, entry.metrics_port = start_metered_worker(
                    spec.service,
                    list(spec.command()),
                    env=env,
                    name=spec.kind.value,
                    ready_text=spec.ready_text or "",
                    metrics_port=entry.metrics_port,
                )
        except ProcessStartError as error:
            entry.process = None
            entry.last_error = str(error).splitlines()[0]
            self._say(spec.name, f"did not start: {entry.last_error}")
            return
        entry.started_at = time.time()
        self._say(spec.name, f"running (pid {entry.process.process.pid})")

    def check_once(self) -> None:
        """Restart what exited, once its backoff has passed."""
        now = time.monotonic()
        for entry in self.supervised:
            if self._stopping.is_set() or entry.running():
                continue
            if entry.next_start == 0.0:
                lived = time.time() - entry.started_at
                if lived >= STABLE_SECONDS:
                    entry.backoff = FIRST_BACKOFF_SECONDS
                code = entry.process.process.returncode if entry.process else None
                self._say(
                    entry.spec.name,
                    f"exited (code {code}); restarting in {entry.backoff:.0f}s",
                )
                entry.next_start = now + entry.backoff
                entry.backoff = min(entry.backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            if now < entry.next_start:
                continue
            entry.next_start = 0.0
            entry.restarts += 1
            self._start(entry)

    def run_forever(self, *, interval: float = 0.5) -> None:
        """Supervise and show the logs until a stop signal or Ctrl-C."""
        while not self._stopping.is_set():
            self.check_once()
            self.pump_logs()
            self.write_status()
            time.sleep(interval)

    def stop_all(self) -> None:
        self._stopping.set()
        started = [e.process for e in reversed(self.supervised) if e.process]
        # Every process is told first, then each is waited for.
        for process in started:
            process.terminate()
        for process in started:
            process.stop()
        self.pump_logs()
        with contextlib.suppress(FileNotFoundError):
            STATUS_FILE.unlink()

    # What a learner sees ----------------------------------------------------

    def _say(self, name: str, message: str) -> None:
        with self._lock:
            print(f"{name:>18} | [up] {message}", file=self.output, flush=True)

    def pump_logs(self) -> None:
        """Show what each process wrote since last time, prefixed by its name."""
        for entry in self.supervised:
            if entry.process is None:
                continue
            path = entry.process.log_path
            known, offset = self._offsets.get(entry.spec.name, (path, 0))
            if known != path:
                offset = 0
            try:
                with open(path, "rb") as log:
                    log.seek(offset)
                    chunk = log.read()
            except OSError:
                continue
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self._offsets[entry.spec.name] = (path, offset + len(complete))
            with self._lock:
                for line in complete.decode(errors="replace").splitlines():
                    print(f"{entry.spec.name:>18} | {line}", file=self.output)
                self.output.flush()

    def status(self) -> dict:
        return {
            "pid": os.getpid(),
            "approach": self.approach,
            "delivery": self.delivery,
            "store": self.store,
            "aws_endpoint": self.env.get("AWS_ENDPOINT_URL"),
            "processes": [
                {
                    "name": entry.spec.name,
                    "what": entry.spec.what,
                    "pid": entry.process.process.pid if entry.running() else None,
                    "started_at": entry.started_at,
                    "restarts": entry.restarts,
                    "url": entry.url,
                    "metrics_port": entry.metrics_port,
                }
                for entry in self.supervised
            ],
        }

    def write_status(self) -> None:
        STATUS_FILE.parent.mkdir(parents=True, exist_ok=True)
        temporary = STATUS_FILE.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.status(), indent=2))
        temporary.replace(STATUS_FILE)


def _listens(spec: PlatformProcess) -> bool:
    """Whether the process has a port (and so a URL): web servers, the gateway."""
    return spec.serves_http or spec.kind is Kind.GATEWAY


def raise_on_stop_signals() -> None:
    """SIGTERM and SIGHUP end ``up`` as Ctrl-C does: through its ``finally``."""

    def stop(signum, frame):
        raise UpStopped(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)


# ``manage.py status`` and ``manage.py stop`` ------------------------------------


def read_status() -> dict | None:
    """What the running ``up`` wrote, or None when no ``up`` runs."""
    try:
        status = json.loads(STATUS_FILE.read_text())
    except (OSError, ValueError):
        return None
    if not running(status.get("pid")):
        return None
    return status


def health(url: str | None) -> str:
    if url is None:
        return "-"
    try:
        response = requests.get(f"{url}/api/health/", timeout=2)
    except requests.RequestException:
        return "no answer"
    return "ok" if response.status_code == 200 else f"HTTP {response.status_code}"


def stop_running_up(*, timeout: float = 60.0) -> bool:
    """SIGTERM the running ``up`` and wait for it; kill what it left. True if
    one was running."""
    try:
        status = json.loads(STATUS_FILE.read_text())
    except (OSError, ValueError):
        return False
    pid = status.get("pid")
    was_running = running(pid)
    if was_running:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while running(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    # Whatever outlived it (an ``up`` killed with SIGKILL leaves its children).
    for process in status.get("processes", []):
        if running(process.get("pid")):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process["pid"], signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        STATUS_FILE.unlink()
    return was_running

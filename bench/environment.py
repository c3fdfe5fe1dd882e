"""The servers and databases a benchmark run uses, and how figures are run.

Each figure runs in a subprocess of its own with the Django settings of one
service and one approach, as the platform runs it; this module prepares the
PostgreSQL databases and the moto server and passes their addresses on.

Every name a run creates starts with its run prefix (``bench_<6 hex>_``,
chosen once in :func:`prepare`): its databases, the platforms' database
prefixes, their queue and topic names and their event source mappings'
checkpoint files. Two runs on one machine therefore never touch each other's
state, and :meth:`BenchEnvironment.teardown` can remove everything a run
made, however it ended, by that prefix alone.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from shared_events.configuration import VAR_DIR
from stack.connections import fetch_rows
from stack.moto_server import MotoServer, start_moto_server
from stack.postgres import (
    create_databases,
    database_url,
    drop_databases,
    ensure_server,
)

ROOT = Path(__file__).resolve().parent.parent
# Suffixes after the run prefix.
WRITE_DATABASE = "customer"
READ_DATABASE = "customer_read"
# An empty "order" event store: the rebuild command reads a peer's store too.
PEER_DATABASE = "order"
# Where the event source mapping runners of a platform keep their positions,
# one file per service named by the platform's topology prefix
# (``run_event_source_mappings``).
CHECKPOINT_DIR = VAR_DIR / "event-source-mappings"
# Handed to every figure subprocess, so anything it names can carry the run.
RUN_PREFIX_VARIABLE = "BENCH_RUN_PREFIX"
# How long a figure subprocess gets to end after SIGINT before it is killed.
FIGURE_STOP_TIMEOUT = 15.0


def new_run_prefix() -> str:
    """``bench_<6 hex>_``: short enough that platform names stay under
    PostgreSQL's 63 characters and SQS's 80, random enough for a machine."""
    return f"bench_{secrets.token_hex(3)}_"


def topology_prefix(database_prefix: str) -> str:
    """The queue and topic prefix a platform derives from its database prefix
    (``running_platform`` sets ``EVENT_TOPOLOGY_PREFIX`` the same way)."""
    return database_prefix.replace("_", "-")


@dataclass
class BenchEnvironment:
    server_url: str
    run_prefix: str
    moto: MotoServer | None = None

    @property
    def write_database(self) -> str:
        return self.run_prefix + WRITE_DATABASE

    @property
    def read_database(self) -> str:
        return self.run_prefix + READ_DATABASE

    @property
    def peer_database(self) -> str:
        return self.run_prefix + PEER_DATABASE

    @property
    def write_url(self) -> str:
        return database_url(self.server_url, self.write_database)

    @property
    def read_url(self) -> str:
        return database_url(self.server_url, self.read_database)

    @property
    def peer_url(self) -> str:
        return database_url(self.server_url, self.peer_database)

    @property
    def topology_prefix(self) -> str:
        return topology_prefix(self.run_prefix)

    def platform_prefix(self, name: str) -> str:
        """The database prefix of one of the run's platforms (``e2e``, ``obs``...);
        its topology prefix and checkpoint files follow from it."""
        return f"{self.run_prefix}{name}_"

    def databases(self) -> list[str]:
        """Every database on the server whose name starts with the run prefix:
        the figures' own, the platforms' and their telemetry."""
        rows = fetch_rows(
            database_url(self.server_url, "postgres"), "SELECT datname FROM pg_database"
        )
        # Compared in Python: "_" is a wildcard to LIKE.
        return sorted(name for (name,) in rows if name.startswith(self.run_prefix))

    def checkpoint_files(self) -> list[Path]:
        return sorted(CHECKPOINT_DIR.glob(f"{self.topology_prefix}*.json"))

    def teardown(self, *, log: Callable[[str], None] | None = None) -> None:
        """Stop the moto server, drop the run's databases, remove its checkpoint
        files. Safe to call twice, and after a partial :func:`prepare`."""
        if self.moto is not None:
            self.moto.stop()
            self.moto = None
        names = self.databases()
        if names:
            drop_databases(server_url=self.server_url, names=names)
        files = self.checkpoint_files()
        for path in files:
            path.unlink(missing_ok=True)
        if log is not None:
            log(
                f"run {self.run_prefix} torn down: {len(names)} databases dropped, "
                f"{len(files)} checkpoint files removed, moto stopped"
            )

    def django_env(self, approach: str) -> dict[str, str]:
        if self.moto is None:
            raise RuntimeError("the run's moto server is not running")
        env = dict(os.environ)
        env.update(
            {RUN_PREFIX_VARIABLE: self.run_prefix},
            EVENT_TOPOLOGY_PREFIX=self.topology_prefix,
            DJANGO_SETTINGS_MODULE="customer_service.config.settings",
            SERVICE="customer",
            ARCHITECTURE_APPROACH=approach,
            CUSTOMER_DATABASE_URL=self.write_url,
            CUSTOMER_READ_DATABASE_URL=self.read_url,
            AWS_ENDPOINT_URL=self.moto.endpoint_url,
            AWS_REGION="us-east-1",
            PYTHONPATH=str(ROOT),
        )
        return env


def prepare(*, log, run_prefix: str | None = None) -> BenchEnvironment:
    """Fresh databases of a new run, migrated; a moto server of our own.

    If preparing fails or is interrupted, what was made so far is torn down
    before the exception goes on.
    """
    server_url = ensure_server(data_dir=ROOT / "var" / "postgres", prefer_external=True)
    bench = BenchEnvironment(
        server_url=server_url, run_prefix=run_prefix or new_run_prefix()
    )
    log(f"run {bench.run_prefix} (databases and names start with it)")
    try:
        _prepare(bench, log=log)
    except BaseException:
        bench.teardown(log=log)
        raise
    return bench


def _prepare(bench: BenchEnvironment, *, log) -> None:
    names = [bench.write_database, bench.read_database, bench.peer_database]
    create_databases(server_url=bench.server_url, names=names)
    log(f"databases {', '.join(names)} on {bench.server_url}")
    bench.moto = start_moto_server()
    log(f"moto server on {bench.moto.endpoint_url}")
    manage = [sys.executable, str(ROOT / "manage.py"), "--service", "customer"]
    for approach, extra in (
        ("event_sourcing", []),
        ("cqrs_es", ["--database", "read"]),
    ):
        subprocess.run(
            [*manage, "migrate", "--verbosity", "0", *extra],
            env=bench.django_env(approach),
            cwd=ROOT,
            check=True,
        )
    # The peer only needs an event_store table: the same shared_events migrations.
    peer_env = bench.django_env("event_sourcing")
    peer_env["CUSTOMER_DATABASE_URL"] = bench.peer_url
    subprocess.run(
        [*manage, "migrate", "--verbosity", "0"], env=peer_env, cwd=ROOT, check=True
    )
    log("migrated")


def run_figure(
    bench: BenchEnvironment, *, figure: str, approach: str, options: dict
) -> list[dict]:
    """Run ``bench.worker`` for one figure under ``approach``; return its rows.

    Interrupted (Ctrl-C, SIGTERM turned into KeyboardInterrupt, an error), the
    worker gets SIGINT, the way Ctrl-C would reach it, and time to close its
    connections before it is killed.
    """
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    command = [
        sys.executable,
        "-m",
        "bench.worker",
        figure,
        "--options",
        json.dumps(options),
        "--out",
        str(out),
    ]
    try:
        with subprocess.Popen(
            command, env=bench.django_env(approach), cwd=ROOT
        ) as process:
            try:
                returncode = process.wait()
            except BaseException:
                _stop_figure(process)
                raise
        if returncode:
            raise subprocess.CalledProcessError(returncode, command)
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


def _stop_figure(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=FIGURE_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def machine(bench: BenchEnvironment) -> dict:
    connection = psycopg2.connect(bench.write_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            (version,) = cursor.fetchone()
    finally:
        connection.close()
    return {
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "postgresql": version,
        "moto": importlib.metadata.version("moto"),
        "platform": sys.platform,
    }

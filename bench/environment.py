"""The servers and databases a benchmark run uses, and how figures are run.

Each figure runs in a subprocess of its own with the Django settings of one
service and one approach, as the platform runs it; this module prepares the
PostgreSQL databases and the moto server and passes their addresses on.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from stack.moto_server import MotoServer, start_moto_server
from stack.postgres import (
    create_databases,
    database_url,
    drop_databases,
    ensure_server,
)

ROOT = Path(__file__).resolve().parent.parent
WRITE_DATABASE = "bench_customer"
READ_DATABASE = "bench_customer_read"
# An empty "order" event store: the rebuild command reads a peer's store too.
PEER_DATABASE = "bench_order"


@dataclass
class BenchEnvironment:
    server_url: str
    moto: MotoServer

    @property
    def write_url(self) -> str:
        return database_url(self.server_url, WRITE_DATABASE)

    @property
    def read_url(self) -> str:
        return database_url(self.server_url, READ_DATABASE)

    @property
    def peer_url(self) -> str:
        return database_url(self.server_url, PEER_DATABASE)

    def django_env(self, approach: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
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


def prepare(*, log) -> BenchEnvironment:
    """Fresh bench databases, migrated; a moto server of our own."""
    server_url = ensure_server(data_dir=ROOT / "var" / "postgres", prefer_external=True)
    names = [WRITE_DATABASE, READ_DATABASE, PEER_DATABASE]
    drop_databases(server_url=server_url, names=names)
    create_databases(server_url=server_url, names=names)
    log(f"databases {', '.join(names)} on {server_url}")
    moto = start_moto_server()
    log(f"moto server on {moto.endpoint_url}")
    bench = BenchEnvironment(server_url=server_url, moto=moto)
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
    return bench


def run_figure(
    bench: BenchEnvironment, *, figure: str, approach: str, options: dict
) -> list[dict]:
    """Run ``bench.worker`` for one figure under ``approach``; return its rows."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    try:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.worker",
                figure,
                "--options",
                json.dumps(options),
                "--out",
                str(out),
            ],
            env=bench.django_env(approach),
            cwd=ROOT,
            check=True,
        )
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


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

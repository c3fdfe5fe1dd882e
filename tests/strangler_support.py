"""What the migration's tests share: the command as a learner runs it, on a
running platform's databases, with a settings file of its own (the
environment: ``lab.scenarios.strangle_the_monolith.migrate_environment``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lab.client import PlatformClient
from shared_events.configuration import REPO_DIR, read_env_file
from stack.connections import fetch_rows


def migrate(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``manage.py approach migrate ARGS``, run to its end."""
    return subprocess.run(
        [sys.executable, "manage.py", "approach", "migrate", *args],
        cwd=REPO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def recorded_approach(env: dict) -> str:
    """The approach the command's settings file names now."""
    return read_env_file(Path(env["PLATFORM_DOTENV"]))["ARCHITECTURE_APPROACH"]


def client_of(run) -> PlatformClient:
    return PlatformClient(
        customer_url=run.url("customer"), order_url=run.url("order"), token=run.token
    )


def ids(url: str, table: str, column: str = "id", where: str = "") -> list[str]:
    return [
        key for (key,) in fetch_rows(url, f"SELECT {column}::text FROM {table} {where}")
    ]

"""A whole platform under one approach: fresh databases, migrations, web servers.

The demo, the lab and the cross-service tests all start the platform this
way, so what a learner watches is what the tests check.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from shared_events.approaches import parse_approach
from shared_events.configuration import (
    REPO_DIR,
    SERVICES,
    all_database_names,
    database_name,
)
from stack import postgres
from stack.processes import ServiceProcess, free_port, service_environment, start_web


class PlatformStartError(RuntimeError):
    """The platform could not be prepared; the message carries the output."""


@dataclass
class PlatformRun:
    approach: str
    env: dict[str, str]
    token: str
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return self.services[service].base_url

    def database_url(self, service: str) -> str:
        name = database_name(
            service=service,
            approach=parse_approach(self.approach),
            prefix=self.env["DATABASE_NAME_PREFIX"],
        )
        return f"{self.env['DATABASE_SERVER_URL'].rstrip('/')}/{name}"

    def stop_service(self, service: str) -> None:
        self.services[service].stop()

    def manage(self, service: str, *args: str) -> subprocess.CompletedProcess:
        """Run ``manage.py --service SERVICE ARGS`` with this run's environment."""
        command = [sys.executable, str(REPO_DIR / "manage.py"), "--service", service]
        completed = subprocess.run(
            [*command, *args],
            cwd=REPO_DIR,
            env=service_environment(service, self.env),
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
) -> Iterator[PlatformRun]:
    """Fresh databases, both services migrated and serving, stopped on exit."""
    env = platform_environment(approach=approach, server_url=server_url, prefix=prefix)
    env.update(extra_env or {})
    customer_port = free_port()
    env["CUSTOMER_SERVICE_URL"] = f"http://127.0.0.1:{customer_port}"
    reset_databases(server_url=server_url, prefix=prefix)
    run = PlatformRun(approach=approach, env=env, token=secrets.token_hex(20))
    # The customer service migrates first: under shared_db the order
    # service's foreign key needs the customer table.
    for service in SERVICES:
        run.manage(service, "migrate", "--no-input", "-v", "0")
        run.manage(
            service,
            "create_demo_user",
            "--username",
            "demo",
            "--token",
            run.token,
            "--quiet",
        )
    with ExitStack() as stack:
        run.services["customer"] = start_web("customer", env=env, port=customer_port)
        stack.callback(run.services["customer"].stop)
        run.services["order"] = start_web("order", env=env)
        stack.callback(run.services["order"].stop)
        yield run

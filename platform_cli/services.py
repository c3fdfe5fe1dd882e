"""Django commands on one service: in this process, or in a child process."""

from __future__ import annotations

import os
import subprocess

from platform_cli.errors import PlatformError
from shared_events.configuration import REPO_DIR
from stack import environment
from stack.processes import SETTINGS_MODULES, manage_command


def split_service(args: list[str]) -> tuple[str | None, list[str]]:
    """The ``--service`` option (if given) and the arguments without it."""
    rest: list[str] = []
    service = None
    iterator = iter(args)
    for arg in iterator:
        if service is None and arg == "--service":
            service = next(iterator, "")
        elif service is None and arg.startswith("--service="):
            service = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return service, rest


def run_service_command(service: str, args: list[str]) -> int:
    """Run a Django management command in-process for one service."""
    if service not in SETTINGS_MODULES:
        raise PlatformError(
            f"unknown service {service!r}; services: {', '.join(SETTINGS_MODULES)}"
        )
    environment.prepare()
    os.environ["SERVICE"] = service
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULES[service]
    # Django's command machinery (~50 ms) is loaded only for a service
    # command, after the environment above names its settings.
    from django.core.management import execute_from_command_line

    execute_from_command_line([f"manage.py --service {service}", *args])
    return 0


def service_subprocess(
    service: str, args: list[str], *, env: dict | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    """Run ``manage.py --service SERVICE ARGS`` in a child process."""
    completed = subprocess.run(manage_command(service, *args), env=env, cwd=REPO_DIR)
    if check and completed.returncode != 0:
        raise PlatformError(
            f"'manage.py --service {service} {' '.join(args)}' failed "
            f"(exit {completed.returncode})"
        )
    return completed

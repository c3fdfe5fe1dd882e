"""``manage.py create_demo_user``: one user and API token, valid in both services."""

from __future__ import annotations

import argparse
import json
import subprocess
from dataclasses import dataclass

from platform_cli.errors import PlatformError
from platform_cli.services import service_subprocess
from shared_events.configuration import REPO_DIR, SERVICES
from stack import environment
from stack.processes import manage_command

NAME = "create_demo_user"
HELP = "create a demo user with one API token valid in both services"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--username", default="demo", help="user name (default demo)")
    parser.add_argument(
        "--token",
        default="",
        help="token to set (default: the customer service's existing one, or new)",
    )


@dataclass(frozen=True)
class DemoCredentials:
    """The demo user's API token (every service's command API) and a JWT
    (every API, the query processes included: they accept nothing else)."""

    token: str
    jwt: str


def run(options: argparse.Namespace) -> int:
    environment.prepare()
    credentials = ensure_demo_user(options.username, token=options.token)
    print(f"Demo user {options.username!r} exists in both services.")
    print(f"Token: {credentials.token}")
    print(f'Use it as:  curl -H "Authorization: Token {credentials.token}" ...')
    print(f"JWT (every API, the query side's too): {credentials.jwt}")
    print(
        "It expires in JWT_ACCESS_MINUTES (5 by default): run this again for another."
    )
    return 0


def ensure_demo_user(username: str, *, token: str = "") -> DemoCredentials:
    """The demo user in every service with one token (``token``, or the one it
    has), and a JWT issued by the customer service."""
    credentials = _customer_service_credentials(username, token)
    for service in SERVICES:
        if service == "customer":
            continue
        service_subprocess(
            service,
            [
                "create_demo_user",
                *("--username", username, "--token", credentials.token, "--quiet"),
            ],
        )
    return credentials


def _customer_service_credentials(username: str, token: str) -> DemoCredentials:
    """The demo user's token in the customer service (``token``, the one it has,
    or a new one), and a JWT for it.

    Every service then gets this same key: a token printed by an earlier run
    keeps working everywhere.
    """
    chosen = ("--token", token) if token else ()
    completed = subprocess.run(
        manage_command(
            "customer",
            "create_demo_user",
            *("--username", username, *chosen, "--print-credentials"),
        ),
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise PlatformError(
            "could not read the demo user's token in the customer service:\n"
            + completed.stderr[-2000:]
        )
    printed = json.loads(completed.stdout.strip().splitlines()[-1])
    return DemoCredentials(token=printed["token"], jwt=printed["jwt"])

"""``manage.py create_demo_user``: one user and API token, valid in both services."""

from __future__ import annotations

import argparse
import subprocess

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


def run(options: argparse.Namespace) -> int:
    environment.prepare()
    token = ensure_demo_user(options.username, token=options.token)
    print(f"Demo user {options.username!r} exists in both services.")
    print(f"Token: {token}")
    print(f'Use it as:  curl -H "Authorization: Token {token}" ...')
    return 0


def ensure_demo_user(username: str, *, token: str = "") -> str:
    """The demo user in every service with one token (``token``, or the one it
    has); returns the token."""
    services = list(SERVICES)
    if not token:
        # Asking the customer service made (or kept) its user and token.
        token = _customer_service_token(username)
        services.remove("customer")
    for service in services:
        service_subprocess(
            service,
            ["create_demo_user", "--username", username, "--token", token, "--quiet"],
        )
    return token


def _customer_service_token(username: str) -> str:
    """The demo user's token in the customer service, made there if it has none.

    Every service then gets this same key: a token printed by an earlier run
    keeps working everywhere.
    """
    completed = subprocess.run(
        manage_command(
            "customer", "create_demo_user", "--username", username, "--print-token"
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
    return completed.stdout.strip().splitlines()[-1]

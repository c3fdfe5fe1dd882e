"""``manage.py create_demo_user``: one user and API token, valid in both services."""

from __future__ import annotations

import argparse
import secrets

from platform_cli.services import service_subprocess
from shared_events.configuration import SERVICES
from stack import environment

NAME = "create_demo_user"
HELP = "create a demo user with one API token valid in both services"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--username", default="demo", help="user name (default demo)")
    parser.add_argument(
        "--token", default="", help="token to set (default: a new random one)"
    )


def run(options: argparse.Namespace) -> int:
    environment.prepare()
    token = options.token or secrets.token_hex(20)
    for service in SERVICES:
        service_subprocess(
            service,
            [
                "create_demo_user",
                "--username",
                options.username,
                "--token",
                token,
                "--quiet",
            ],
        )
    print(f"Demo user {options.username!r} exists in both services.")
    print(f"Token: {token}")
    print(f'Use it as:  curl -H "Authorization: Token {token}" ...')
    return 0

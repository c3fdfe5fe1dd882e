"""``manage.py database start|stop``: the embedded PostgreSQL server."""

from __future__ import annotations

import argparse

from stack import environment, postgres

NAME = "database"
HELP = "start, or stop, the embedded PostgreSQL server"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["start", "stop"], help="what to do")


def run(options: argparse.Namespace) -> int:
    if options.action == "stop":
        stopped = postgres.stop_embedded(data_dir=environment.EMBEDDED_DATA_DIR)
        print(
            "embedded PostgreSQL stopped"
            if stopped
            else "embedded PostgreSQL was not running"
        )
        return 0
    server = environment.ensure_database_server()
    print(f"PostgreSQL server: {server or 'per-service URLs from the environment'}")
    return 0

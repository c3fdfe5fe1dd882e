"""``manage.py compose``: write docker-compose.yml from the process table."""

from __future__ import annotations

import argparse
from pathlib import Path

from stack.compose import (
    COMPOSE_FILE,
    GATEWAY_CONFIG,
    PROMETHEUS_CONFIG,
    compose_document,
    compose_is_current,
    write_compose,
)

NAME = "compose"
HELP = "write docker-compose.yml from the process table (--check: is it current?)"
DESCRIPTION = (
    "Generate docker-compose.yml: one service per process of the process table "
    "(stack/process_table.py), each carrying the profiles of the approaches that "
    "run it, plus PostgreSQL, the local AWS (moto), a one-shot setup, the "
    "gateway, whose HAProxy configuration goes beside it (deploy/gateway/), and "
    "Prometheus, whose scrape configuration goes beside it too "
    "(deploy/prometheus/). With --check, write nothing and exit 1 when any of "
    "these files differs from what would be generated."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the file is out of date",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=COMPOSE_FILE,
        metavar="PATH",
        help="where to write (default: docker-compose.yml at the repository's top)",
    )


def run(options: argparse.Namespace) -> int:
    path: Path = options.output
    if options.check:
        if compose_is_current(path):
            print(f"{path.name} is up to date with the process table")
            return 0
        print(
            f"{path} (or {GATEWAY_CONFIG} or {PROMETHEUS_CONFIG} beside it) is "
            "out of date with the process table: run python manage.py compose"
        )
        return 1
    if not write_compose(path):
        print(f"{path.name} was already up to date")
        return 0
    count = len(compose_document()["services"])
    print(
        f"wrote {path} ({count} services), {path.parent / GATEWAY_CONFIG} and "
        f"{path.parent / PROMETHEUS_CONFIG}"
    )
    return 0

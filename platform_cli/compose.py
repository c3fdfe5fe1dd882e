"""``manage.py compose``: write docker-compose.yml from the process table."""

from __future__ import annotations

import argparse
from pathlib import Path

from stack.compose import COMPOSE_FILE, compose_document, render_compose

NAME = "compose"
HELP = "write docker-compose.yml from the process table (--check: is it current?)"
DESCRIPTION = (
    "Generate docker-compose.yml: one service per process of the process table "
    "(stack/process_table.py), each carrying the profiles of the approaches that "
    "run it, plus PostgreSQL, the local AWS (moto) and a one-shot setup. With "
    "--check, write nothing and exit 1 when the file differs from what would be "
    "generated."
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
    text = render_compose()
    current = path.exists() and path.read_text() == text
    if options.check:
        if current:
            print(f"{path.name} is up to date with the process table")
            return 0
        print(
            f"{path} is out of date with the process table: "
            "run python manage.py compose"
        )
        return 1
    if current:
        print(f"{path.name} was already up to date")
        return 0
    path.write_text(text)
    count = len(compose_document()["services"])
    print(f"wrote {path} ({count} services)")
    return 0

"""``manage.py demo`` (``make demo``): the lab's comparison over the demo scenarios."""

from __future__ import annotations

import argparse

from lab.cli import command_lab
from shared_events.approaches import Approach

NAME = "demo"
HELP = "the demo: lab compare over the paper's scenarios, every approach"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--approach",
        action="append",
        choices=[a.value for a in Approach],
        help="run only this approach (repeatable; default: every built one)",
    )


def run(options: argparse.Namespace) -> int:
    """The lab's comparison over the demo scenarios, every approach."""
    lab_options = argparse.Namespace(
        action="compare", scenario=None, all=False, approach=options.approach
    )
    return command_lab(lab_options)

"""``manage.py demo`` (``make demo``): the lab's comparison over the demo scenarios.

Every approach on the default backends, then one row block for the paper's
AWS figure: ``cqrs_es`` with its events in DynamoDB, whose stream is the
outbox, Kinesis between the services and Lambda functions (the local event
source mapping runner) projecting into the read store.
"""

from __future__ import annotations

import argparse

from lab.backends import AWS_FIGURE, BackendError
from lab.cli import command_lab
from platform_cli.errors import PlatformError
from shared_events.approaches import Approach

NAME = "demo"
HELP = (
    "the demo: lab compare over the paper's scenarios, every approach, plus "
    "cqrs_es on the paper's AWS backends (Kinesis + DynamoDB Streams)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--approach",
        action="append",
        choices=[a.value for a in Approach],
        help="run only this approach (repeatable; default: every built one); the "
        "AWS figure's rows come along when cqrs_es is among them",
    )
    parser.add_argument(
        "--no-aws-figure",
        dest="aws_figure",
        action="store_false",
        help=f"leave out the AWS figure's rows ({AWS_FIGURE.label})",
    )


def run(options: argparse.Namespace) -> int:
    """The lab's comparison over the demo scenarios, every approach."""
    wanted = options.approach or [a.value for a in Approach]
    figure = options.aws_figure and AWS_FIGURE.approach in wanted
    lab_options = argparse.Namespace(
        action="compare",
        scenario=None,
        all=False,
        approach=wanted,
        backend=[AWS_FIGURE.spec] if figure else [],
        delivery=None,
        store=None,
    )
    try:
        return command_lab(lab_options)
    except BackendError as error:
        raise PlatformError(str(error)) from None

"""``manage.py lab``: list the scenarios, run one, or compare the approaches.

The lab's own options and command are in ``lab.cli``; this module names the
command on the platform's command line.
"""

from __future__ import annotations

import argparse

from lab.backends import BackendError
from lab.cli import add_lab_arguments, command_lab
from platform_cli.errors import PlatformError

NAME = "lab"
HELP = "the lab: run scenarios under the approaches and compare, measured"
DESCRIPTION = (
    "Scenarios run through the real HTTP APIs and processes (web servers, "
    "consumers, Celery relays, the event source mapping runner, a local AWS) and "
    "are measured from the data. '--backend cqrs_es:kinesis:dynamodb' runs an "
    "approach on the paper's AWS backends. 'lab compare' writes a table, and "
    "JSON, Markdown and HTML reports under reports/."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lab_arguments(parser)


def run(options: argparse.Namespace) -> int:
    try:
        return command_lab(options)
    except BackendError as error:
        raise PlatformError(str(error)) from None

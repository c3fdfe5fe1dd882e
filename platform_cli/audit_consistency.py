"""``manage.py audit_consistency``: 0 consistent, 1 differences, 2 error."""

from __future__ import annotations

import argparse

from observe.audit import (
    AuditDatabases,
    AuditError,
    audit_and_repair,
    audit_until_settled,
    render_audit,
)
from platform_cli.errors import PlatformError
from shared_events.configuration import current_approach, load_env
from stack import environment

NAME = "audit_consistency"
HELP = "compare every copy of the data with its source (exit 1 on differences)"

SWITCHES = {
    "json": "print the report as JSON instead of text",
    "repair": "rebuild what differs (approach 5: replay the read models; approaches "
    "3 and 4: rewrite the customer replica), then audit again",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="audit again until consistent or SECONDS have passed, so lag can "
        "settle before differences are judged (default 0: judge at once)",
    )


def run(options: argparse.Namespace) -> int:
    """``python manage.py audit_consistency``: 0 consistent, 1 differences, 2 error."""
    if options.wait < 0:
        raise PlatformError("--wait must be 0 or more seconds")
    environment.prepare(aws=False, create_databases=False)
    env = load_env()
    approach = current_approach(env)
    try:
        databases = AuditDatabases.from_environment(env=env, approach=approach)
        if options.repair:
            report = audit_and_repair(approach, databases, wait_seconds=options.wait)
        else:
            report = audit_until_settled(approach, databases, wait_seconds=options.wait)
    except AuditError as error:
        raise PlatformError(str(error)) from None
    print(render_audit(report, as_json=options.json))
    return 0 if report.consistent else 1

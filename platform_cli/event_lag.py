"""``manage.py event_lag``: lag percentiles from the consumers' processed events."""

from __future__ import annotations

import argparse

from observe.lag import (
    DATABASE_CHOICES,
    LagError,
    lag_databases,
    measure_lag,
    render_lag,
)
from platform_cli.errors import PlatformError
from shared_events.approaches import approach_info
from shared_events.configuration import current_approach, load_env
from stack import environment

NAME = "event_lag"
HELP = "commit-to-projection lag percentiles from processed events"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    window = parser.add_mutually_exclusive_group()
    window.add_argument(
        "--since",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="events processed in the last SECONDS (default 300)",
    )
    window.add_argument(
        "--last",
        type=int,
        default=None,
        metavar="N",
        help="instead, the last N events of each consumer, however old",
    )
    parser.add_argument(
        "--database",
        action="append",
        choices=DATABASE_CHOICES,
        help="where to read processed events (repeatable; default: the order "
        "service's database in approaches 3 and 4, both read databases in 5)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON, not text")


def run(options: argparse.Namespace) -> int:
    """``python manage.py event_lag``: lag percentiles from event_processed rows."""
    if options.since is not None and options.since <= 0:
        raise PlatformError("--since must be more than 0 seconds")
    if options.last is not None and options.last < 1:
        raise PlatformError("--last must be 1 or more")
    environment.prepare(aws=False, create_databases=False)
    env = load_env()
    approach = current_approach(env)
    try:
        urls = lag_databases(env=env, approach=approach, names=options.database or ())
        if not urls:
            print(
                f"{approach_info(approach).label} sends no events: there is no lag "
                "to measure (approaches 3 to 5 have one)"
            )
            return 0
        report = measure_lag(urls, options.since, last=options.last)
    except LagError as error:
        raise PlatformError(str(error)) from None
    print(render_lag(report, as_json=options.json))
    return 0

"""``manage.py approach show|set``: the approach switch of both services."""

from __future__ import annotations

import argparse
import os

from platform_cli import approach_migrate
from platform_cli.errors import PlatformError
from shared_events.approaches import (
    APPROACHES,
    DEFAULT_APPROACH,
    Approach,
    UnknownApproach,
    approach_info,
    parse_approach,
)
from shared_events.configuration import read_env_file, user_env_file, write_env_value

NAME = "approach"
HELP = "show, set or migrate (with the data) the architecture approach"
DESCRIPTION = (
    "Show or set ARCHITECTURE_APPROACH for both services. 'set' writes it to "
    ".env in the repository; the environment variable of the same name, if "
    "set, wins over .env. Running service processes read the approach at "
    "start-up: restart them (and run 'python manage.py migrate') to switch. "
    "'set' switches an empty platform; 'migrate --to APPROACH' moves a running "
    "one with its data, one step at a time."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("show", help="print the approach and what each service does")
    setter = actions.add_parser("set", help="persist an approach for both services")
    setter.add_argument("name", help="one of: " + ", ".join(a.value for a in Approach))
    approach_migrate.add_arguments(
        actions.add_parser(
            "migrate",
            help="move the running platform, with its data, one step along the path",
            description=approach_migrate.DESCRIPTION,
        )
    )


def run(options: argparse.Namespace) -> int:
    if options.action == "set":
        return approach_set(options.name)
    if options.action == "migrate":
        return approach_migrate.approach_migrate(options)
    return approach_show()


def _approach_source() -> tuple[str, str]:
    if os.environ.get("ARCHITECTURE_APPROACH"):
        return os.environ["ARCHITECTURE_APPROACH"], "the ARCHITECTURE_APPROACH variable"
    stored = read_env_file(user_env_file()).get("ARCHITECTURE_APPROACH")
    if stored:
        return stored, f"{user_env_file().name} (written by 'approach set')"
    return DEFAULT_APPROACH.value, "the default"


def approach_show() -> int:
    value, source = _approach_source()
    try:
        info = approach_info(value)
    except UnknownApproach as error:
        raise PlatformError(f"{error} (set in {source})") from None
    print(f"Approach: {info.label}")
    print(f"  set by: {source}")
    if not info.built:
        print("  status: NOT BUILT YET - the services refuse to start under it")
    print(f"  customer service ({info.approach.value}): {info.customer_service_role}")
    print(f"  order service ({info.approach.value}): {info.order_service_role}")
    print(f"  the flaw to watch: {info.flaw}")
    print()
    print("All approaches:")
    for approach, other in APPROACHES.items():
        marker = "*" if approach == info.approach else " "
        built = "" if other.built else "  (not built yet)"
        print(f" {marker} {other.number}. {approach.value:<15} {other.title}{built}")
    return 0


def approach_set(name: str) -> int:
    try:
        approach = parse_approach(name)
    except UnknownApproach as error:
        raise PlatformError(str(error)) from None
    write_env_value(user_env_file(), "ARCHITECTURE_APPROACH", approach.value)
    info = APPROACHES[approach]
    print(
        f"Approach set to {info.label} for both services (in {user_env_file().name})."
    )
    if not info.built:
        print(
            "Warning: this approach is not built yet; the services will refuse to "
            "start under it."
        )
    if os.environ.get("ARCHITECTURE_APPROACH") not in (None, approach.value):
        print(
            "Warning: ARCHITECTURE_APPROACH is set in this shell to "
            f"{os.environ['ARCHITECTURE_APPROACH']!r} and overrides "
            f"{user_env_file().name}."
        )
    print("Running service processes pick it up when restarted; run migrate for the")
    print("databases this approach uses: python manage.py migrate")
    return 0

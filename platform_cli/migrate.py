"""``manage.py migrate``: every service's databases, in the order they need.

Its options are not parsed here: they all go to Django's ``migrate``.
"""

from __future__ import annotations

import argparse

from platform_cli.services import service_subprocess
from shared_events.approaches import approach_info
from shared_events.configuration import (
    JOINING_SERVICES,
    SERVICES,
    current_approach,
    load_env,
)
from stack import environment

NAME = "migrate"
HELP = "migrate every service's database (extra options go to Django's migrate)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """None of its own: ``main`` hands every option to Django's migrate."""


def run(extra: list[str]) -> int:
    environment.prepare()
    migrate_services(extra)
    return 0


def migrate_services(extra: list[str]) -> None:
    """Migrate every service's databases (the environment already prepared)."""
    # The customer service goes first: under shared_db the order service's
    # foreign key needs the customer table to exist.
    read_side = approach_info(current_approach(load_env())).read_side
    for service in SERVICES:
        print(f"== migrating the {service} service")
        service_subprocess(service, ["migrate", *extra])
        if read_side:
            print(f"== migrating the {service} service's read database")
            service_subprocess(service, ["migrate", "--database", "read", *extra])
    # A service that joins later has its database ready under every approach,
    # so that starting it needs nothing else.
    for service in JOINING_SERVICES:
        print(f"== migrating the {service} service")
        service_subprocess(service, ["migrate", *extra])

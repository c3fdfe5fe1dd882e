"""Build the platform's command line from the command modules, and dispatch."""

from __future__ import annotations

import argparse
import os
import sys

from platform_cli import (
    approach,
    audit_consistency,
    cockpit,
    compose,
    consistency_report,
    create_demo_user,
    database,
    demo,
    deploy,
    event_lag,
    lab,
    migrate,
    status,
    stop,
    trace,
    up,
)
from platform_cli.arguments import add_switches
from platform_cli.errors import PlatformError
from platform_cli.services import run_service_command, split_service
from shared_events.configuration import REPO_DIR

USAGE = """\
usage: python manage.py --service {customer,order} <django command> [options]
       python manage.py <platform command> [options]

One manage.py runs both services.

A Django command runs against ONE service. Name the service with --service,
or set the SERVICE environment variable:

  python manage.py --service customer migrate
  python manage.py --service order createsuperuser
  SERVICE=order python manage.py shell
  python manage.py --service customer help      (that service's commands)

A platform command acts on the whole platform, both services at once:

%s
With nothing configured, the platform starts its own PostgreSQL server (data
under var/postgres) and generates local secrets into var/platform.env. Set
DATABASE_SERVER_URL (or CUSTOMER_DATABASE_URL, ORDER_DATABASE_URL and
SHARED_DATABASE_URL) in the environment or in .env to use your own server.
"""

# The platform commands, in the order --help lists them.
COMMANDS = {
    module.NAME: module
    for module in [
        approach,
        migrate,
        create_demo_user,
        consistency_report,
        demo,
        audit_consistency,
        event_lag,
        lab,
        up,
        cockpit,
        status,
        trace,
        stop,
        database,
        compose,
        deploy,
    ]
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python manage.py", add_help=False)
    commands = parser.add_subparsers(dest="command", metavar="<platform command>")
    for name, module in COMMANDS.items():
        command = commands.add_parser(
            name, help=module.HELP, description=getattr(module, "DESCRIPTION", None)
        )
        add_switches(command, getattr(module, "SWITCHES", {}))
        if hasattr(module, "add_arguments"):
            module.add_arguments(command)
    return parser


def _platform_help(parser: argparse.ArgumentParser) -> str:
    lines = []
    for action in parser._subparsers._group_actions:  # argparse keeps them here
        for choice in action._choices_actions:
            lines.append(f"  {choice.dest:<20} {choice.help}")
    return USAGE % ("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(REPO_DIR))
    args = argv[1:]
    if args and getattr(COMMANDS.get(args[0]), "OWN_SERVICE_OPTION", False):
        # A platform command named first whose --service is its own (deploy).
        service = None
    else:
        service, args = split_service(args)
        if service is None:
            service = os.environ.get("SERVICE") or None
    parser = build_parser()
    try:
        if service is not None:
            return run_service_command(service, args or ["help"])
        if not args or args[0] in ("-h", "--help", "help"):
            print(_platform_help(parser))
            return 0
        if args[0] == migrate.NAME:
            # Every option is Django's: none is parsed here.
            return migrate.run(args[1:])
        if args[0] not in COMMANDS:
            raise PlatformError(
                f"{args[0]!r} is not a platform command. To run a Django command on "
                f"one service: python manage.py --service customer {args[0]} (or "
                "--service order, or set SERVICE). See python manage.py --help."
            )
        options = parser.parse_args(args)
        return COMMANDS[options.command].run(options)
    except PlatformError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

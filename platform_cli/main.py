"""Build the platform's command line from the command modules, and dispatch."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from types import ModuleType

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

# The platform commands, in the order --help lists them: each is the module
# of that name in platform_cli, imported only when it is needed. A Django
# command of one service (every worker the platform starts) then pays for
# none of them: together they import the lab, the strangler and the cockpit.
COMMANDS = (
    "approach",
    "migrate",
    "create_demo_user",
    "consistency_report",
    "demo",
    "audit_consistency",
    "event_lag",
    "lab",
    "up",
    "cockpit",
    "status",
    "trace",
    "stop",
    "database",
    "compose",
    "deploy",
)


def command_module(name: str) -> ModuleType:
    """The module of the platform command ``name``."""
    module = importlib.import_module(f"platform_cli.{name}")
    assert name == module.NAME, (module.NAME, name)
    return module


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The platform's parser: every command, or ``only`` that one."""
    parser = argparse.ArgumentParser(prog="python manage.py", add_help=False)
    commands = parser.add_subparsers(dest="command", metavar="<platform command>")
    for name in COMMANDS if only is None else [only]:
        module = command_module(name)
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
    named = args[0] if args and args[0] in COMMANDS else None
    if named and getattr(command_module(named), "OWN_SERVICE_OPTION", False):
        # A platform command named first whose --service is its own (deploy).
        service = None
    else:
        service, args = split_service(args)
        if service is None:
            service = os.environ.get("SERVICE") or None
    try:
        if service is not None:
            return run_service_command(service, args or ["help"])
        if not args or args[0] in ("-h", "--help", "help"):
            print(_platform_help(build_parser()))
            return 0
        if args[0] == "migrate":
            # Every option is Django's: none is parsed here.
            return command_module("migrate").run(args[1:])
        if named is None:
            raise PlatformError(
                f"{args[0]!r} is not a platform command. To run a Django command on "
                f"one service: python manage.py --service customer {args[0]} (or "
                "--service order, or set SERVICE). See python manage.py --help."
            )
        options = build_parser(only=named).parse_args(args)
        return command_module(options.command).run(options)
    except PlatformError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

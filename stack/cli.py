"""manage.py: run a Django command on one service, or a command on the platform."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from shared_events.approaches import (
    APPROACHES,
    Approach,
    UnknownApproach,
    approach_info,
    parse_approach,
)
from shared_events.configuration import (
    REPO_DIR,
    SERVICES,
    read_env_file,
    user_env_file,
    write_env_value,
)

SETTINGS_MODULES = {
    "customer": "customer_service.settings",
    "order": "order_service.settings",
}

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


class PlatformError(Exception):
    """A platform command refused; the message says why and what to do."""


def _split_service(args: list[str]) -> tuple[str | None, list[str]]:
    rest: list[str] = []
    service = None
    iterator = iter(args)
    for arg in iterator:
        if service is None and arg == "--service":
            service = next(iterator, "")
        elif service is None and arg.startswith("--service="):
            service = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return service, rest


def run_service_command(service: str, args: list[str]) -> int:
    """Run a Django management command in-process for one service."""
    if service not in SETTINGS_MODULES:
        raise PlatformError(
            f"unknown service {service!r}; services: {', '.join(SETTINGS_MODULES)}"
        )
    from stack import environment

    environment.prepare()
    os.environ["SERVICE"] = service
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULES[service]
    from django.core.management import execute_from_command_line

    execute_from_command_line([f"manage.py --service {service}", *args])
    return 0


def service_subprocess(
    service: str, args: list[str], *, env: dict | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    """Run ``manage.py --service SERVICE ARGS`` in a child process."""
    command = [sys.executable, str(REPO_DIR / "manage.py"), "--service", service, *args]
    completed = subprocess.run(command, env=env, cwd=REPO_DIR)
    if check and completed.returncode != 0:
        raise PlatformError(
            f"'manage.py --service {service} {' '.join(args)}' failed "
            f"(exit {completed.returncode})"
        )
    return completed


# Platform commands ---------------------------------------------------------


def command_approach(options: argparse.Namespace) -> int:
    if options.action == "set":
        return _approach_set(options.name)
    return _approach_show()


def _approach_source() -> tuple[str, str]:
    if os.environ.get("ARCHITECTURE_APPROACH"):
        return os.environ["ARCHITECTURE_APPROACH"], "the ARCHITECTURE_APPROACH variable"
    stored = read_env_file(user_env_file()).get("ARCHITECTURE_APPROACH")
    if stored:
        return stored, f"{user_env_file().name} (written by 'approach set')"
    from shared_events.approaches import DEFAULT_APPROACH

    return DEFAULT_APPROACH.value, "the default"


def _approach_show() -> int:
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


def _approach_set(name: str) -> int:
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


def command_migrate(options: argparse.Namespace, extra: list[str]) -> int:
    from stack import environment

    environment.prepare()
    # The customer service goes first: under shared_db the order service's
    # foreign key needs the customer table to exist.
    from shared_events.configuration import current_approach, load_env

    read_side = approach_info(current_approach(load_env())).read_side
    for service in SERVICES:
        print(f"== migrating the {service} service")
        service_subprocess(service, ["migrate", *extra])
        if read_side:
            print(f"== migrating the {service} service's read database")
            service_subprocess(service, ["migrate", "--database", "read", *extra])
    return 0


def command_create_demo_user(options: argparse.Namespace) -> int:
    import secrets

    from stack import environment

    environment.prepare()
    token = options.token or secrets.token_hex(20)
    for service in SERVICES:
        service_subprocess(
            service,
            [
                "create_demo_user",
                "--username",
                options.username,
                "--token",
                token,
                "--quiet",
            ],
        )
    print(f"Demo user {options.username!r} exists in both services.")
    print(f"Token: {token}")
    print(f'Use it as:  curl -H "Authorization: Token {token}" ...')
    return 0


def command_consistency_report(options: argparse.Namespace) -> int:
    from stack import environment
    from stack.consistency import consistency_report, render_report

    environment.prepare()
    report = consistency_report()
    print(render_report(report, as_json=options.json))
    return 1 if (options.fail_on_orphans and report.orphan_orders) else 0


def command_demo(options: argparse.Namespace) -> int:
    """The lab's comparison over the demo scenarios, every approach."""
    from lab.cli import command_lab as run_lab_command

    lab_options = argparse.Namespace(
        action="compare", scenario=None, all=False, approach=options.approach
    )
    return run_lab_command(lab_options)


def command_audit_consistency(options: argparse.Namespace) -> int:
    from stack.audit import command_audit_consistency as run

    return run(options)


def command_event_lag(options: argparse.Namespace) -> int:
    from stack.lag import command_event_lag as run

    return run(options)


def command_lab(options: argparse.Namespace) -> int:
    from lab.cli import command_lab as run

    return run(options)


def command_up(options: argparse.Namespace) -> int:
    from stack.processes import run_services_foreground

    return run_services_foreground(
        customer_port=options.customer_port, order_port=options.order_port
    )


def command_database(options: argparse.Namespace) -> int:
    from stack import environment, postgres

    if options.action == "stop":
        stopped = postgres.stop_embedded(data_dir=environment.EMBEDDED_DATA_DIR)
        print(
            "embedded PostgreSQL stopped"
            if stopped
            else "embedded PostgreSQL was not running"
        )
        return 0
    server = environment.ensure_database_server()
    print(f"PostgreSQL server: {server or 'per-service URLs from the environment'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python manage.py", add_help=False)
    commands = parser.add_subparsers(dest="command", metavar="<platform command>")

    approach = commands.add_parser(
        "approach",
        help="show or set the architecture approach of both services",
        description=(
            "Show or set ARCHITECTURE_APPROACH for both services. 'set' writes it to "
            ".env in the repository; the environment variable of the same name, if "
            "set, wins over .env. Running service processes read the approach at "
            "start-up: restart them (and run 'python manage.py migrate') to switch."
        ),
    )
    approach_actions = approach.add_subparsers(dest="action", required=True)
    approach_actions.add_parser(
        "show", help="print the approach and what each service does"
    )
    setter = approach_actions.add_parser(
        "set", help="persist an approach for both services"
    )
    setter.add_argument("name", help="one of: " + ", ".join(a.value for a in Approach))

    commands.add_parser(
        "migrate",
        help="migrate every service's database (extra options go to Django's migrate)",
    )

    demo_user = commands.add_parser(
        "create_demo_user",
        help="create a demo user with one API token valid in both services",
    )
    demo_user.add_argument(
        "--username", default="demo", help="user name (default demo)"
    )
    demo_user.add_argument(
        "--token", default="", help="token to set (default: a new random one)"
    )

    report = commands.add_parser(
        "consistency_report",
        help="list orphan orders: open orders whose customer no longer exists",
    )
    report.add_argument(
        "--json", action="store_true", help="print JSON instead of text"
    )
    report.add_argument(
        "--fail-on-orphans",
        action="store_true",
        help="exit with status 1 when there are orphan orders",
    )

    demo = commands.add_parser(
        "demo",
        help="the demo: lab compare over the paper's scenarios, every approach",
    )
    demo.add_argument(
        "--approach",
        action="append",
        choices=[a.value for a in Approach],
        help="run only this approach (repeatable; default: every built one)",
    )

    from stack.audit import add_audit_consistency_arguments
    from stack.lag import add_event_lag_arguments

    audit = commands.add_parser(
        "audit_consistency",
        help="compare every copy of the data with its source (exit 1 on differences)",
    )
    add_audit_consistency_arguments(audit)
    lag = commands.add_parser(
        "event_lag", help="commit-to-projection lag percentiles from processed events"
    )
    add_event_lag_arguments(lag)

    lab = commands.add_parser(
        "lab",
        help="the lab: run scenarios under the approaches and compare, measured",
        description=(
            "Scenarios run through the real HTTP APIs and processes (web servers, "
            "consumers, Celery relays, a local AWS) and are measured from the data. "
            "'lab compare' writes a table, and JSON, Markdown and HTML reports under "
            "reports/."
        ),
    )
    from lab.cli import add_lab_arguments

    add_lab_arguments(lab)

    up = commands.add_parser(
        "up", help="run both services' web servers in the foreground (Ctrl-C stops)"
    )
    up.add_argument("--customer-port", type=int, default=8001, help="default 8001")
    up.add_argument("--order-port", type=int, default=8002, help="default 8002")

    database = commands.add_parser(
        "database", help="start, or stop, the embedded PostgreSQL server"
    )
    database.add_argument("action", choices=["start", "stop"], help="what to do")
    return parser


def _platform_help(parser: argparse.ArgumentParser) -> str:
    lines = []
    for action in parser._subparsers._group_actions:  # argparse keeps them here
        for choice in action._choices_actions:
            lines.append(f"  {choice.dest:<20} {choice.help}")
    return USAGE % ("\n".join(lines) + "\n")


HANDLERS = {
    "approach": command_approach,
    "create_demo_user": command_create_demo_user,
    "consistency_report": command_consistency_report,
    "demo": command_demo,
    "lab": command_lab,
    "audit_consistency": command_audit_consistency,
    "event_lag": command_event_lag,
    "up": command_up,
    "database": command_database,
}


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(REPO_DIR))
    service, args = _split_service(argv[1:])
    if service is None:
        service = os.environ.get("SERVICE") or None
    parser = build_parser()
    try:
        if service is not None:
            return run_service_command(service, args or ["help"])
        if not args or args[0] in ("-h", "--help", "help"):
            print(_platform_help(parser))
            return 0
        if args[0] == "migrate":
            return command_migrate(argparse.Namespace(), args[1:])
        if args[0] not in HANDLERS:
            raise PlatformError(
                f"{args[0]!r} is not a platform command. To run a Django command on "
                f"one service: python manage.py --service customer {args[0]} (or "
                "--service order, or set SERVICE). See python manage.py --help."
            )
        options = parser.parse_args(args)
        return HANDLERS[options.command](options)
    except PlatformError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

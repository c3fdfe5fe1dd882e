"""``manage.py up``: the whole platform for the chosen approach, in the foreground.

Prepares what the processes need (the database server, the migrations, the
local AWS and its topics and queues, the demo user), then starts every
process of the approach's process table (``stack.process_table``) and keeps
them running (``stack.platform_up``) until Ctrl-C or SIGTERM, which stop
everything this command started.
"""

from __future__ import annotations

import argparse
import os

from platform_cli import create_demo_user, migrate
from platform_cli.errors import PlatformError
from platform_cli.services import service_subprocess
from shared_events.approaches import approach_info
from shared_events.configuration import current_approach, load_env
from shared_events.telemetry.tracing import tracing_requested
from stack import environment, postgres
from stack.moto_server import stop_moto_daemon
from stack.platform_up import PlatformUp, UpStopped, raise_on_stop_signals, read_status
from stack.process_table import DEFAULT_PORTS, Kind
from stack.processes import ProcessStartError
from stack.span_receiver import SpanReceiver, prepare_database, start_span_receiver

NAME = "up"
HELP = "run every process of the chosen approach, supervised (Ctrl-C stops all)"
DESCRIPTION = (
    "Start the whole platform for the approach set with 'manage.py approach "
    "set': both web servers and, as the approach needs them, the consumers, "
    "relays, read-side projectors and query servers. A process that dies is "
    "restarted with backoff; 'manage.py status' lists them; Ctrl-C, SIGTERM or "
    "'make stop' stop everything, the local AWS included."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for name, port in DEFAULT_PORTS.items():
        parser.add_argument(
            f"--{name}-port",
            type=int,
            default=port,
            help=f"port of the {name.replace('-', ' ')} server (default {port})",
        )


def run(options: argparse.Namespace) -> int:
    if (running := read_status()) is not None:
        raise PlatformError(
            f"the platform already runs (manage.py up, pid {running['pid']}, "
            f"{running['approach']}): 'manage.py status' shows it, 'make stop' "
            "stops it"
        )
    ports = {
        name: getattr(options, f"{name.replace('-', '_')}_port")
        for name in DEFAULT_PORTS
    }
    env = load_env()
    approach = current_approach(env).value
    info = approach_info(approach)
    database_was_running = postgres.embedded_running(environment.EMBEDDED_DATA_DIR)
    aws_is_ours = not environment.configured_aws()
    environment.prepare()
    up = PlatformUp(
        approach=approach,
        env={"CUSTOMER_SERVICE_URL": f"http://127.0.0.1:{ports['customer-web']}"},
        ports=ports,
        delivery=env.str("EVENT_DELIVERY", default="sns"),
        store=env.str("EVENT_STORE", default="postgres"),
    )
    raise_on_stop_signals()
    receiver = None
    try:
        receiver = _start_tracing(up)
        migrate.migrate_services(["--no-input", "-v", "0"])
        if info.uses_events:
            service_subprocess("customer", ["aws_bootstrap"])
        credentials = create_demo_user.ensure_demo_user("demo")
        up.start_all()
        _describe(up, approach, credentials)
        up.run_forever()
    except (KeyboardInterrupt, UpStopped):
        print("\nstopping every process...", flush=True)
    except ProcessStartError as error:
        raise PlatformError(str(error)) from None
    finally:
        up.stop_all()
        if receiver is not None:
            receiver.stop()
        if (
            info.uses_events
            and aws_is_ours
            and stop_moto_daemon(state_dir=environment.MOTO_STATE_DIR)
        ):
            print("local AWS (moto) stopped: its topics and queues are gone")
        if not database_was_running and postgres.stop_embedded(
            data_dir=environment.EMBEDDED_DATA_DIR
        ):
            print("embedded PostgreSQL stopped (its data stays in var/postgres)")
    return 0


def _start_tracing(up: PlatformUp) -> SpanReceiver | None:
    """The local span receiver, unless ``OTEL_*`` already names where spans go
    (a team's Jaeger): every process exports to it, the gateway logs to it."""
    if tracing_requested() or os.environ.get("OTEL_SDK_DISABLED") == "true":
        return None
    server = os.environ.get("DATABASE_SERVER_URL")
    if not server:
        return None  # each database named outright: no server to keep spans on
    receiver = start_span_receiver(
        database_url=prepare_database(
            server_url=server,
            prefix=os.environ.get("DATABASE_NAME_PREFIX", ""),
            fresh=False,
        )
    )
    up.env.update(receiver.spans_environment())
    return receiver


def _describe(
    up: PlatformUp, approach: str, credentials: create_demo_user.DemoCredentials
) -> None:
    print(f"\n{approach_info(approach).label}: {len(up.supervised)} processes")
    gateway = None
    for entry in up.supervised:
        if entry.spec.kind is Kind.GATEWAY:
            gateway = entry.url
            where = f"  {entry.url}/"
        else:
            where = f"  {entry.url}/api/docs/" if entry.url else ""
        print(f"  {entry.spec.name:<18} {entry.spec.what}{where}")
    if endpoint := os.environ.get("AWS_ENDPOINT_URL"):
        print(f"  local AWS (moto) at {endpoint}")
    token = credentials.token
    print(f'Demo token: {token}   (curl -H "Authorization: Token {token}" ...)')
    # The gateway and the query processes take a JWT (the query processes
    # never open the write database, where API tokens live).
    print(f"Demo JWT (the gateway, the query side): {credentials.jwt}")
    print(
        "  It expires in JWT_ACCESS_MINUTES (5 by default); "
        "'manage.py create_demo_user' prints a fresh one."
    )
    if gateway:
        print(f"Gateway: {gateway}/customers/, /orders/, /query/ (a JWT), /auth/token/")
        print(f'  curl -H "Authorization: Bearer <that JWT>" {gateway}/orders/')
    else:
        print('  curl -H "Authorization: Bearer <that JWT>" .../api/query/...')
    if up.env.get("GATEWAY_SPAN_LOG"):
        print(
            "Traces: every request's spans are kept; 'manage.py trace <X-Trace-ID "
            "or X-Request-ID>' (or --latest) draws one."
        )
    print("Ctrl-C stops everything; 'manage.py status' lists what runs.\n", flush=True)

"""``manage.py cockpit``: the learner's cockpit, one platform and its gateway.

Starts a platform under the approach (fresh databases named with the prefix
``cockpit_``, tracing on), the gateway in front of it with the cockpit page
as its default route, and the cockpit's web server (waitress, in a thread of
this process, so the page reaches the controller in-process); then prints
the one URL to open, with the run's secret token. From the page a learner
switches approaches and runs lab scenarios. Ctrl-C or SIGTERM stops
everything this command started (the platform, the gateway, the web server)
and drops the run's databases, also after an error.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import time
from functools import partial
from pathlib import Path

from cockpit.controller import CockpitController
from cockpit.jobs import JobState
from cockpit.platforms import (
    cockpit_platform,
    create_cockpit_user,
    gateway_in_front,
    reset_after,
)
from cockpit.scenario_results import ScenarioResults
from cockpit.web.server import CockpitServer, serve
from lab.backends import Backend, BackendError
from lab.reports import REPORTS_DIR
from lab.runner import run_scenario_on
from platform_cli.errors import PlatformError
from shared_events.configuration import all_database_names, current_approach, load_env
from stack import environment, postgres
from stack.front_end_assets import FrontEndAssetsUnavailable, ensure_front_end_assets
from stack.loopback import free_port
from stack.platform_up import UpStopped, raise_on_stop_signals
from stack.span_receiver import TELEMETRY_DATABASE

NAME = "cockpit"
HELP = "the learner's cockpit: a platform, its gateway, and a page to drive both"
DESCRIPTION = (
    "Start one platform under the approach (default: the configured one) with "
    "tracing on, the gateway in front of it, and the cockpit page behind the "
    "gateway; print the URL to open (with this run's secret token). The page "
    "draws the architecture with live numbers, switches approaches, runs lab "
    "scenarios and shows each service's own fragments. Ctrl-C or SIGTERM stops "
    "everything it started and drops its databases."
)
#: The run's databases: the configured DATABASE_NAME_PREFIX, then this.
DATABASE_PREFIX = "cockpit_"
RESULTS_DIR = REPORTS_DIR / "cockpit"
#: How long the first platform may take to start.
FIRST_START_SECONDS = 600.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--approach",
        help="the approach to start under (default: the configured one, "
        "'manage.py approach show')",
    )
    parser.add_argument(
        "--backend",
        metavar="APPROACH:DELIVERY:STORE",
        help="an approach with its backends, e.g. cqrs_es:kinesis:dynamodb "
        "(instead of --approach)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS_DIR,
        help="where each scenario's last result is kept as JSON, read again at "
        "start (default reports/cockpit/)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="the gateway's port, where the page is opened (default: a free one)",
    )


def chosen_backend(options: argparse.Namespace) -> Backend:
    if options.backend and options.approach:
        raise PlatformError("give --approach or --backend, not both")
    try:
        if options.backend:
            return Backend.parse(options.backend)
        if options.approach:
            return Backend(options.approach)
        return Backend(current_approach(load_env()).value)
    except (BackendError, ValueError) as error:
        raise PlatformError(str(error)) from None


def run(options: argparse.Namespace) -> int:
    backend = chosen_backend(options)
    try:
        ensure_front_end_assets()
    except FrontEndAssetsUnavailable as error:
        raise PlatformError(
            f"the page's htmx and Chart.js are missing: {error}"
        ) from None
    environment.ensure_local_secrets()
    server_url = environment.ensure_database_server()
    if not server_url:
        raise PlatformError("the cockpit needs a database server (DATABASE_SERVER_URL)")
    prefix = os.environ.get("DATABASE_NAME_PREFIX", "") + DATABASE_PREFIX
    gateway_port, cockpit_port = options.port or free_port(), free_port()
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    controller = CockpitController(
        platform_factory=partial(
            cockpit_platform, server_url=server_url, prefix=prefix
        ),
        start_gateway=partial(
            gateway_in_front, port=gateway_port, cockpit_port=cockpit_port
        ),
        run_scenario=run_scenario_on,
        reset_between=reset_after,
        results=ScenarioResults(options.results_dir),
        sign_in_for=create_cockpit_user,
        echo=lambda line: print(line, flush=True),
    )
    token = secrets.token_urlsafe(24)
    raise_on_stop_signals()
    server: CockpitServer | None = None
    try:
        server = serve(
            controller=controller,
            token=token,
            gateway_url=gateway_url,
            port=cockpit_port,
            secret_key=secrets.token_urlsafe(50),
        )
        job = controller.switch(backend)
        controller.jobs.wait(FIRST_START_SECONDS)
        if job.state is not JobState.DONE:
            raise PlatformError(f"the platform did not start: {job.error}")
        print(f"\nThe cockpit ({backend.label}): open\n  {gateway_url}/?token={token}")
        print("Ctrl-C stops the platform, the gateway and the cockpit.\n", flush=True)
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, UpStopped):
        print("\nstopping the cockpit and its platform...", flush=True)
    finally:
        # A second Ctrl-C or SIGTERM must not cut the stop short.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        try:
            controller.stop()
        finally:
            if server is not None:
                server.stop()
            postgres.drop_databases(
                server_url=server_url,
                names=[*all_database_names(prefix), prefix + TELEMETRY_DATABASE],
            )
            print(
                "stopped: the platform's processes, the gateway, the cockpit; "
                f"databases {prefix}* dropped",
                flush=True,
            )
    return 0

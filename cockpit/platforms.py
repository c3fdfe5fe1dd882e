"""What ``manage.py cockpit`` gives the controller: the real platform, its
gateway with the cockpit behind it, the scenario runner and a signed-in user.

What a learner should notice: nothing here is the cockpit's own platform
code. A platform is the lab's and the tests' (``running_platform``, with
tracing on, so each request's trace can be drawn), the gateway is
``manage.py up``'s with one more route (the cockpit, as the default), and a
scenario runs as ``manage.py lab`` runs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cockpit.controller import SignIn
from cockpit.jobs import Progress
from lab.backends import Backend
from lab.reset import reset_between_scenarios
from lab.runner import ScenarioResult
from stack.gateway import start_gateway
from stack.platform_run import PlatformRun, running_platform
from stack.processes import ServiceProcess

#: The user the cockpit signs in as, made staff in each fresh platform.
COCKPIT_USER = "cockpit"


@contextmanager
def cockpit_platform(
    backend: Backend, *, server_url: str, prefix: str
) -> Iterator[PlatformRun]:
    """A fresh platform under ``backend``, traced, stopped on exit."""
    with running_platform(
        approach=backend.approach,
        server_url=server_url,
        prefix=prefix,
        extra_env=backend.environment(),
        tracing=True,
    ) as run:
        yield run


def gateway_in_front(
    run: PlatformRun, *, port: int, cockpit_port: int
) -> ServiceProcess:
    """The gateway on ``port``: the run's web servers, and the cockpit at ``/``."""
    return start_gateway(
        web_ports={f"{s}-web": p.port for s, p in run.services.items()},
        port=port,
        env=run.env,
        cockpit_port=cockpit_port,
    )


def create_cockpit_user(run: PlatformRun) -> SignIn:
    """A staff user with a random password in the run's customer service (where
    users sign in); the password stays in the cockpit's memory."""
    return SignIn(
        username=COCKPIT_USER, password=run.create_user_with_password(COCKPIT_USER)
    )


def reset_after(run: PlatformRun, last: ScenarioResult, progress: Progress) -> None:
    """The lab's reset between two scenarios on one platform."""
    drained = last.measurements is None or last.measurements.drain_seconds is not None
    reset_between_scenarios(run, drained=drained, progress=progress)

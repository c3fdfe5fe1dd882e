"""The cockpit's controller: at most one running platform, its gateway, and
the jobs that change them (``cockpit.jobs``).

- ``switch(backend)``: stop the platform, start one under the new approach
  and backends, then restart the gateway in front of the new web servers
  (on the same port, so the page's address stays the same);
- ``run_scenario(name)``: one lab scenario on the running platform
  (``lab.runner.run_scenario_on``), its result kept per scenario and backend
  (``cockpit.scenario_results``); a scenario that moves the platform to
  another approach (the migration) leaves the cockpit on that approach.

What a learner should notice: the platform is a context manager
(``running_platform``) kept open in an ``ExitStack``, so however the
cockpit ends (Ctrl-C, SIGTERM, an error halfway through a switch) every
process it started is stopped by the same code that started it. The gateway
lives beside the platform, not in it: while one platform stops and the next
starts, the gateway still serves the cockpit page (the services' routes
answer 503 until the new gateway points at the new ports).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from typing import Protocol

from cockpit.jobs import Job, JobBoard, JobRefused, Progress
from cockpit.scenario_results import ScenarioResults, result_record
from lab.backends import Backend
from lab.scenarios import SCENARIOS, Scenario

# How long stopping the cockpit waits for a running job: a switch must end
# to hand its processes to the stack; a scenario restarts a web server it
# stopped in its ``finally``, which must not happen after the stop.
STOP_WAIT_SECONDS = 300.0


class Stoppable(Protocol):
    def stop(self) -> None: ...


@dataclass(frozen=True)
class SignIn:
    """A user of the running platform the cockpit signs in as, server-side:
    the password never leaves the cockpit's process."""

    username: str
    password: str


#: backend -> the platform's context manager (``running_platform`` in
#: ``manage.py cockpit``; a fake in the controller's tests).
PlatformFactory = Callable[[Backend], AbstractContextManager]
#: the running platform -> its gateway, started (and the cockpit behind it).
GatewayStarter = Callable[[object], Stoppable]
#: a scenario, the platform, progress -> a ``lab.runner.ScenarioResult``.
ScenarioRunner = Callable[[object, Scenario, Progress], object]
#: the platform, the last scenario's result, progress: the data emptied.
ScenarioReset = Callable[[object, object, Progress], None]


class CockpitController:
    """Owns the running platform and its gateway; changes them through jobs."""

    def __init__(
        self,
        *,
        platform_factory: PlatformFactory,
        start_gateway: GatewayStarter,
        run_scenario: ScenarioRunner,
        reset_between: ScenarioReset,
        results: ScenarioResults,
        sign_in_for: Callable[[object], SignIn | None] = lambda run: None,
        scenarios: dict[str, Scenario] = SCENARIOS,
        echo: Progress | None = None,
    ) -> None:
        self._platform_factory = platform_factory
        self._start_gateway = start_gateway
        self._run_scenario = run_scenario
        self._reset_between = reset_between
        self._sign_in_for = sign_in_for
        self.results = results
        self.scenarios = scenarios
        self.jobs = JobBoard(echo=echo)
        self.backend: Backend | None = None
        self.run = None
        self.gateway: Stoppable | None = None
        self.sign_in: SignIn | None = None
        self._platform: ExitStack | None = None
        self._last_result = None
        self._stopping = threading.Event()

    # -- jobs ------------------------------------------------------------

    def switch(self, backend: Backend) -> Job:
        """Start a job that puts the platform under ``backend``."""
        self._refuse_once_stopping()
        return self.jobs.start(
            kind="switch",
            title=f"switch to {backend.label}",
            work=lambda progress: self._switch(backend, progress),
        )

    def run_scenario(self, name: str) -> Job:
        """Start a job that runs scenario ``name`` on the running platform."""
        self._refuse_once_stopping()
        scenario = self.scenarios.get(name)
        if scenario is None:
            raise JobRefused(
                f"no scenario {name!r}; one of {', '.join(sorted(self.scenarios))}"
            )
        if self.run is None or self.backend is None:
            raise JobRefused("no platform runs: switch to an approach first")
        skipped = scenario.skip_reason(self.backend)
        if skipped:
            raise JobRefused(
                f"{name} does not apply to {self.backend.label}: {skipped}"
            )
        return self.jobs.start(
            kind="scenario",
            title=f"{name} under {self.backend.label}",
            work=lambda progress: self._scenario(scenario, progress),
        )

    def run_step(self, backend: Backend, name: str) -> Job:
        """One click of the workshop: put the platform under ``backend`` if
        another one runs, then run scenario ``name`` on it."""
        self._refuse_once_stopping()
        scenario = self.scenarios.get(name)
        if scenario is None:
            raise JobRefused(
                f"no scenario {name!r}; one of {', '.join(sorted(self.scenarios))}"
            )
        skipped = scenario.skip_reason(backend)
        if skipped:
            raise JobRefused(f"{name} does not apply to {backend.label}: {skipped}")

        def work(progress: Progress) -> dict:
            if self.run is None or self.backend != backend:
                self._switch(backend, progress)
            return self._scenario(scenario, progress)

        return self.jobs.start(
            kind="scenario", title=f"{name} under {backend.label}", work=work
        )

    def _refuse_once_stopping(self) -> None:
        if self._stopping.is_set():
            raise JobRefused("the cockpit is stopping")

    # -- a service's web server, stopped and started by hand --------------

    def web_running(self) -> dict[str, bool]:
        """Each service's web server: running now or not (none: no platform)."""
        run = self.run
        if run is None:
            return {}
        return {
            service: process.running()
            for service, process in sorted(run.services.items())
        }

    def stop_web(self, service: str) -> None:
        """Stop a service's web server, as a crash would: its fragment becomes
        unavailable while the rest of the page keeps working."""
        self._idle_run(service).stop_service(service)

    def start_web(self, service: str) -> None:
        """Start a stopped web server again, on its port (the gateway's
        configuration stays right)."""
        run = self._idle_run(service)
        if not run.services[service].running():
            run.restart_web(service)

    def _idle_run(self, service: str):
        """The running platform, if no job is using it and it has ``service``."""
        self._refuse_once_stopping()
        running = self.jobs.running
        if running is not None:
            raise JobRefused(
                f"job {running.id} ({running.title}) is still running: "
                "wait until it is done"
            )
        if self.run is None:
            raise JobRefused("no platform runs: switch to an approach first")
        if service not in self.run.services:
            raise JobRefused(
                f"no service {service!r}; one of {', '.join(sorted(self.run.services))}"
            )
        return self.run

    # -- the work --------------------------------------------------------

    def _switch(self, backend: Backend, progress: Progress) -> dict:
        if self._platform is not None:
            progress(f"stopping the platform under {self.backend.label}...")
            self._close_platform()
            progress("stopped: its processes are gone, its databases stay till next")
        progress(
            f"starting the platform under {backend.label}: fresh databases, "
            "migrations, local AWS, web servers and workers..."
        )
        stack = ExitStack()
        try:
            run = stack.enter_context(self._platform_factory(backend))
            progress("platform up; signing the cockpit's user in...")
            sign_in = self._sign_in_for(run)
            progress("restarting the gateway in front of the new web servers...")
            if self.gateway is not None:
                self.gateway.stop()
                self.gateway = None
            self.gateway = self._start_gateway(run)
        except BaseException:
            stack.close()
            raise
        self._platform, self.run, self.backend = stack, run, backend
        self.sign_in, self._last_result = sign_in, None
        if self._stopping.is_set():  # stop() came while this job started it
            self._close_platform()
            raise JobRefused("the cockpit stopped while the platform started")
        progress(f"the platform runs under {backend.label}")
        return {"backend": backend.spec}

    def _scenario(self, scenario: Scenario, progress: Progress) -> dict:
        run = self.run
        if self._last_result is not None:
            progress("emptying the last scenario's data first...")
            self._reset_between(run, self._last_result, progress)
            self._last_result = None
        progress(f"running {scenario.name}: {scenario.title}")
        result = self._run_scenario(run, scenario, progress)
        self._last_result = result
        record = result_record(result)
        if run.approach != self.backend.approach:
            # The scenario moved the platform on (strangle-the-monolith):
            # the diagram, the live numbers and the next step follow it.
            self.backend = Backend(
                run.approach, self.backend.delivery, self.backend.store
            )
            record["platform_moved_to"] = self.backend.label
            progress(f"the platform runs under {self.backend.label} now")
        path = self.results.keep(record)
        progress(f"result kept in {path.name}")
        return record

    # -- the end ---------------------------------------------------------

    def stop(self) -> None:
        """Stop everything started: wait for a running job, then the platform
        and the gateway. Safe to call twice."""
        self._stopping.set()
        self.jobs.wait(STOP_WAIT_SECONDS)
        try:
            self._close_platform()
        finally:
            if self.gateway is not None:
                gateway, self.gateway = self.gateway, None
                gateway.stop()

    def _close_platform(self) -> None:
        stack, self._platform = self._platform, None
        self.run, self.sign_in, self._last_result = None, None, None
        if stack is not None:
            stack.close()

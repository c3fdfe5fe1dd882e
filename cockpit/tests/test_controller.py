"""The controller's own logic, on a fake platform: jobs, refusal while busy,
everything stopped on an error and at the end.

The fake platform records what it started and stopped, so each test checks
that nothing the controller started outlives it. The real platform and
gateway are started by ``cockpit/tests/test_cockpit_command.py`` and the
browser tests.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager

import pytest

from cockpit.controller import CockpitController, SignIn
from cockpit.jobs import JobRefused, JobState
from cockpit.scenario_results import ScenarioResults
from lab.backends import Backend
from lab.measurements import Measurements
from lab.runner import ScenarioResult


class FakeWeb:
    def __init__(self) -> None:
        self.alive = True

    def running(self) -> bool:
        return self.alive


class FakeRun:
    def __init__(self, backend: Backend) -> None:
        self.approach = backend.approach
        self.backend = backend
        self.services = {"customer": FakeWeb(), "order": FakeWeb()}

    def stop_service(self, service: str) -> None:
        self.services[service].alive = False

    def restart_web(self, service: str) -> None:
        self.services[service] = FakeWeb()


class Recorder:
    """What the fakes started and stopped, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.fail_start: str | None = None
        self.release = threading.Event()
        self.release.set()
        # The approach a scenario leaves the platform on (the migration's).
        self.moves_to: str | None = None

    def running(self) -> set[str]:
        alive: set[str] = set()
        for event in self.events:
            verb, _, what = event.partition(" ")
            (alive.add if verb == "start" else alive.discard)(what)
        return alive

    @contextmanager
    def platform(self, backend: Backend):
        name = f"platform:{backend.approach}"
        self.events.append(f"start {name}")
        try:
            if self.fail_start == backend.approach:
                raise RuntimeError(f"{backend.approach} failed to start")
            yield FakeRun(backend)
        finally:
            self.events.append(f"stop {name}")

    def gateway(self, run: FakeRun):
        recorder = self
        name = f"gateway:{run.approach}"
        self.events.append(f"start {name}")

        class Gateway:
            def stop(self) -> None:
                recorder.events.append(f"stop {name}")

        return Gateway()

    def scenario(self, run: FakeRun, scenario, progress) -> ScenarioResult:
        progress("deleting a customer")
        self.release.wait(10)
        started_on = run.approach
        if self.moves_to is not None:
            run.approach = self.moves_to
        return ScenarioResult(
            scenario=scenario.name,
            approach=started_on,
            measurements=Measurements(
                orphan_orders=3 if started_on == "db_per_service" else 0,
                events_lost=None,
                duplicate_effects=None,
                failed_requests={},
                lag_p50_ms=None,
                lag_p99_ms=None,
                lag_samples_ms=[12.0, 30.5],
            ),
            lesson=f"lesson under {run.approach}",
        )

    def reset(self, run, last, progress) -> None:
        self.events.append(f"reset after {last.scenario}")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def controller(recorder, tmp_path):
    made = CockpitController(
        platform_factory=recorder.platform,
        start_gateway=recorder.gateway,
        run_scenario=recorder.scenario,
        reset_between=recorder.reset,
        results=ScenarioResults(tmp_path / "cockpit"),
        sign_in_for=lambda run: SignIn("cockpit", "secret"),
    )
    yield made
    made.stop()
    assert recorder.running() == set()


def finished(controller, job):
    controller.jobs.wait(10)
    assert job.state is not JobState.RUNNING
    return job


def test_a_switch_starts_the_platform_then_its_gateway(controller, recorder):
    job = finished(controller, controller.switch(Backend("db_per_service")))

    assert job.state is JobState.DONE, job.error
    assert recorder.events == [
        "start platform:db_per_service",
        "start gateway:db_per_service",
    ]
    assert controller.backend == Backend("db_per_service")
    assert controller.sign_in == SignIn("cockpit", "secret")
    lines = [line for _, line in job.lines]
    assert any("restarting the gateway" in line for line in lines)
    assert lines[-1] == "done"


def test_a_second_switch_stops_the_first_platform_before_starting(controller, recorder):
    finished(controller, controller.switch(Backend("db_per_service")))
    job = finished(controller, controller.switch(Backend("cqrs_es")))

    assert job.state is JobState.DONE, job.error
    assert recorder.events == [
        "start platform:db_per_service",
        "start gateway:db_per_service",
        "stop platform:db_per_service",
        "start platform:cqrs_es",
        "stop gateway:db_per_service",
        "start gateway:cqrs_es",
    ]
    assert recorder.running() == {"platform:cqrs_es", "gateway:cqrs_es"}


def test_a_job_asked_for_while_one_runs_is_refused_with_the_reason(
    controller, recorder
):
    finished(controller, controller.switch(Backend("db_per_service")))
    recorder.release.clear()
    running = controller.run_scenario("delete-customer")

    with pytest.raises(JobRefused, match=f"job {running.id} .* still running"):
        controller.switch(Backend("cqrs_es"))
    with pytest.raises(JobRefused, match="still running"):
        controller.run_scenario("delete-customer")

    recorder.release.set()
    assert finished(controller, running).state is JobState.DONE


def test_a_scenario_needs_a_platform_and_a_known_name(controller):
    with pytest.raises(JobRefused, match="no platform runs"):
        controller.run_scenario("delete-customer")
    with pytest.raises(JobRefused, match="no scenario 'no-such'"):
        controller.run_scenario("no-such")


def test_a_scenarios_result_is_kept_in_memory_and_as_json(
    controller, recorder, tmp_path
):
    finished(controller, controller.switch(Backend("db_per_service")))
    job = finished(controller, controller.run_scenario("delete-customer"))

    assert job.state is JobState.DONE, job.error
    record = controller.results.get("delete-customer", "db_per_service")
    assert record["measurements"]["orphan_orders"] == 3
    assert record["lag_samples_ms"] == [12.0, 30.5]
    assert record["expectation"]["agrees"] is True
    # The lab's own charts of it: the lag distribution of its two samples.
    titles = [
        chart["options"]["plugins"]["title"]["text"] for chart in record["charts"]
    ]
    assert any(title.startswith("Lag from commit to applied") for title in titles)
    assert "orphan" in record["expectation"]["flaw"]
    (written,) = (tmp_path / "cockpit").glob("*.json")
    assert json.loads(written.read_text()) == record
    # A new cockpit reads what the last one measured.
    again = ScenarioResults(tmp_path / "cockpit")
    assert again.get("delete-customer", "db_per_service") == record


def test_the_second_scenario_on_a_platform_starts_from_emptied_data(
    controller, recorder
):
    finished(controller, controller.switch(Backend("db_per_service")))
    finished(controller, controller.run_scenario("delete-customer"))
    finished(controller, controller.run_scenario("delete-customer"))

    assert recorder.events.count("reset after delete-customer") == 1


def test_a_platform_that_fails_to_start_leaves_nothing_running(controller, recorder):
    finished(controller, controller.switch(Backend("db_per_service")))
    recorder.fail_start = "cqrs_es"

    job = finished(controller, controller.switch(Backend("cqrs_es")))

    assert job.state is JobState.FAILED
    assert "cqrs_es failed to start" in job.error
    assert job.lines[-1][1].startswith("failed: RuntimeError")
    assert "platform:cqrs_es" not in recorder.running()
    assert "platform:db_per_service" not in recorder.running()
    assert controller.run is None
    # The gateway still serves the cockpit page, which says nothing runs.
    assert recorder.running() == {"gateway:db_per_service"}
    with pytest.raises(JobRefused, match="no platform runs"):
        controller.run_scenario("delete-customer")


def test_stop_waits_for_the_running_job_then_stops_everything(controller, recorder):
    finished(controller, controller.switch(Backend("db_per_service")))
    recorder.release.clear()
    controller.run_scenario("delete-customer")
    threading.Timer(0.3, recorder.release.set).start()

    controller.stop()

    assert recorder.running() == set()
    assert recorder.events[-2:] == [
        "stop platform:db_per_service",
        "stop gateway:db_per_service",
    ]
    with pytest.raises(JobRefused, match="stopping"):
        controller.switch(Backend("cqrs_es"))


def test_a_services_web_server_is_stopped_and_started_only_while_idle(
    controller, recorder
):
    with pytest.raises(JobRefused, match="no platform runs"):
        controller.stop_web("order")
    finished(controller, controller.switch(Backend("db_per_service")))

    controller.stop_web("order")
    assert controller.web_running() == {"customer": True, "order": False}

    recorder.release.clear()
    running = controller.run_scenario("delete-customer")
    with pytest.raises(JobRefused, match=f"job {running.id} .* still running"):
        controller.start_web("order")
    recorder.release.set()
    finished(controller, running)

    controller.start_web("order")
    assert controller.web_running() == {"customer": True, "order": True}
    with pytest.raises(JobRefused, match="no service 'billing'"):
        controller.stop_web("billing")


def test_a_workshop_step_switches_only_when_another_approach_runs(controller, recorder):
    finished(controller, controller.switch(Backend("db_per_service")))

    same = finished(
        controller, controller.run_step(Backend("db_per_service"), "delete-customer")
    )
    other = finished(
        controller, controller.run_step(Backend("cqrs_es"), "delete-customer")
    )

    assert (same.state, other.state) == (JobState.DONE, JobState.DONE), other.error
    assert same.result["measurements"]["orphan_orders"] == 3
    assert other.result["measurements"]["orphan_orders"] == 0
    assert recorder.events == [
        "start platform:db_per_service",
        "start gateway:db_per_service",
        "stop platform:db_per_service",
        "start platform:cqrs_es",
        "stop gateway:db_per_service",
        "start gateway:cqrs_es",
    ]
    assert controller.backend == Backend("cqrs_es")


def test_after_a_scenario_that_moved_the_platform_the_cockpit_is_on_its_approach(
    controller, recorder
):
    recorder.moves_to = "cqrs_es"
    migration = finished(
        controller, controller.run_step(Backend("shared_db"), "strangle-the-monolith")
    )
    recorder.moves_to = None
    # The next step under cqrs_es runs on the moved platform: no switch.
    finished(controller, controller.run_step(Backend("cqrs_es"), "delete-customer"))

    assert migration.state is JobState.DONE, migration.error
    assert migration.result["backend"] == "shared_db"
    assert migration.result["platform_moved_to"] == "cqrs_es"
    assert "the platform runs under cqrs_es now" in [
        line for _, line in migration.lines
    ]
    assert controller.backend == Backend("cqrs_es")
    assert recorder.events == [
        "start platform:shared_db",
        "start gateway:shared_db",
        "reset after strangle-the-monolith",
    ]


def test_a_workshop_step_that_does_not_apply_is_refused_at_once(controller):
    with pytest.raises(JobRefused, match="does not apply"):
        controller.run_step(Backend("db_per_service"), "add-consumer")
    with pytest.raises(JobRefused, match="no scenario"):
        controller.run_step(Backend("cqrs_es"), "no-such-scenario")

"""``make test``: lint, each service's tests, then platform and cross-service tests.

The services are separate Django projects, so each runs in its own pytest
process with its own settings. Four lanes run side by side (``lanes_of``),
each running its steps in order; each step's output is shown when it ends.
Every run uses PostgreSQL: the server on 127.0.0.1:5432 when one answers,
else the embedded one. The closing line adds up all runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from shared_events.configuration import REPO_DIR, VAR_DIR
from stack import environment
from stack.front_end_assets import FrontEndAssetsUnavailable, ensure_front_end_assets
from stack.moto_server import daemon_pid, stop_moto_daemon

RESULTS_DIR = VAR_DIR / "test-results"


@dataclass
class Step:
    name: str
    command: list[str]
    junit: str | None = None
    env: dict[str, str] | None = None


def _pytest(
    name: str, paths: list[str], extra: list[str], env: dict[str, str] | None = None
) -> Step:
    junit = str(RESULTS_DIR / f"{name}.xml")
    command = [sys.executable, "-m", "pytest", *paths, f"--junitxml={junit}", *extra]
    return Step(name=name, command=command, junit=junit, env=env)


# The read models' tables exist only under cqrs_es (in the read database),
# so their tests run in pytest processes of their own, under that approach.
READ_SIDE_TESTS = {
    "customer": [
        "customer_service/summaries",
        "shared_events/read_side/tests/test_rebuild.py",
    ],
    "order": ["order_service/order_views"],
}
# Their test databases carry a prefix of their own, so that a lane may run
# them beside the services' own steps.
CQRS = {
    "ARCHITECTURE_APPROACH": "cqrs_es",
    "DATABASE_NAME_PREFIX": os.environ.get("TEST_DATABASE_PREFIX", "") + "rs_",
}
# The lab's tests run every scenario on real platforms and spend most of their
# time waiting for processes and queues; they run in a lane of their own, beside
# every other step, so the whole suite takes the longer lane, not the sum.
LAB_TESTS = "tests/test_lab.py"
# Cross-service tests that start platforms of their own, in a step of their
# own (in the lab's lane), so that the lanes take about as long.
# (Every platform a test starts has its session's database prefix: two pytest
# processes side by side never share a database, a queue or a port.)
SIDE_PLATFORM_TESTS = [
    "tests/test_aws_backends.py",
]
# And a step of their own: the gateway's, the query processes' and the
# traces' tests (a request through the gateway followed to the projectors).
FRONT_DOOR_TESTS = [
    "tests/test_gateway.py",
    "tests/test_query_process.py",
    "tests/test_tracing.py",
    # The benchmarks' own tests (real platforms and brokers): they even out
    # the lanes.
    "tests/test_bench.py",
    "tests/test_knee.py",
    # The whole migration path under traffic (approach migrate, strangler/).
    "tests/test_strangler_path.py",
]


def steps(pytest_args: list[str]) -> list[Step]:
    ruff = [sys.executable, "-m", "ruff"]
    return [
        Step("ruff check", [*ruff, "check", "."]),
        Step("ruff format", [*ruff, "format", "--check", "."]),
        _pytest(
            "customer-service",
            ["customer_service", "shared_events", "service_kit"],
            [
                "--ds=customer_service.config.settings",
                *_ignored(READ_SIDE_TESTS["customer"]),
                *pytest_args,
            ],
        ),
        _pytest(
            "order-service",
            ["order_service"],
            [
                "--ds=order_service.config.settings",
                *_ignored(READ_SIDE_TESTS["order"]),
                *pytest_args,
            ],
        ),
        # The service that joins a running platform later: a project of its own.
        _pytest(
            "analytics-service",
            ["analytics_service"],
            ["--ds=analytics_service.config.settings", *pytest_args],
        ),
        _pytest(
            "customer-read-side",
            _existing(READ_SIDE_TESTS["customer"]),
            ["--ds=customer_service.config.settings", *pytest_args],
            env=CQRS,
        ),
        _pytest(
            "order-read-side",
            _existing(READ_SIDE_TESTS["order"]),
            ["--ds=order_service.config.settings", *pytest_args],
            env=CQRS,
        ),
        _pytest(
            "platform",
            ["stack", "observe", "platform_cli", "cockpit", "tests"],
            [
                "-p",
                "no:django",
                *_ignored(
                    [
                        LAB_TESTS,
                        BROWSER_TESTS,
                        *SIDE_PLATFORM_TESTS,
                        *FRONT_DOOR_TESTS,
                    ]
                ),
                *pytest_args,
            ],
        ),
        _pytest("front-door", FRONT_DOOR_TESTS, ["-p", "no:django", *pytest_args]),
        _pytest(
            "platform-side",
            SIDE_PLATFORM_TESTS,
            ["-p", "no:django", *pytest_args],
        ),
    ]


# Pages in a real Chromium (skipped, loudly, where it cannot be installed):
# the cockpit's tests start platforms and switch approaches, in a lane of
# their own with the front door's.
BROWSER_TESTS = "tests/browser"


def lab_steps(pytest_args: list[str]) -> list[Step]:
    return [
        _pytest("lab", [LAB_TESTS], ["-p", "no:django", *pytest_args]),
        _pytest("browser", [BROWSER_TESTS], ["-p", "no:django", *pytest_args]),
    ]


# Four lanes run side by side: the services' own steps; the platform's; the
# lab's with the AWS backends'; the browser's with the front door's. Their
# processes wait on servers and queues much of the time; the suite takes the
# longest lane. Measured in a clean clone at 2026-12-06 with three lanes
# (the browser's in the lab's, the front door's in the services'): 1,048,
# 998 and 1,092 s, 1,749 s of CPU in 1,092 s (80 % of the two cores): room
# for a fourth lane that the suite of an earlier day, busier, did not have.
SERVICE_LANE_STEPS = (
    "ruff check",
    "ruff format",
    "customer-service",
    "order-service",
    "analytics-service",
    "customer-read-side",
    "order-read-side",
)
LAB_LANE_STEPS = ("lab", "platform-side")
BROWSER_LANE_STEPS = ("browser", "front-door")


def lanes_of(pytest_args: list[str]) -> list[list[Step]]:
    """Every step, in lanes of about the same length."""
    every = {step.name: step for step in [*steps(pytest_args), *lab_steps(pytest_args)]}
    named = [SERVICE_LANE_STEPS, LAB_LANE_STEPS, BROWSER_LANE_STEPS]
    rest = [name for name in every if not any(name in lane for lane in named)]
    return [[every[name] for name in lane] for lane in [named[0], rest, *named[1:]]]


def _ignored(paths: list[str]) -> list[str]:
    return [f"--ignore={path}" for path in paths]


def _existing(paths: list[str]) -> list[str]:
    return [path for path in paths if (REPO_DIR / path).exists()]


def _count(junit: str) -> tuple[int, int, int]:
    try:
        root = ElementTree.parse(junit).getroot()
    except (OSError, ElementTree.ParseError):
        return 0, 0, 0
    suites = [root] if root.tag == "testsuite" else list(root)
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return tests - failed - skipped, failed, skipped


class Lane:
    """Steps run one after another; what each printed is shown when it ends."""

    def __init__(self, steps: list[Step], env: dict[str, str], output: threading.Lock):
        self.steps = steps
        self.env = env
        self.output = output
        self.failures: list[str] = []
        self.totals = [0, 0, 0]
        self.cpu_seconds = 0.0
        self.stopped = threading.Event()
        self.current: subprocess.Popen | None = None

    def run(self) -> None:
        for step in self.steps:
            if self.stopped.is_set():
                return
            self._run(step)

    def stop(self) -> None:
        """Skip the steps left and end the running one (SIGINT, SIGTERM)."""
        self.stopped.set()
        if self.current is not None and self.current.poll() is None:
            # SIGINT, not SIGTERM: pytest then tears its fixtures down, and
            # they stop the servers and workers the tests started.
            self.current.send_signal(signal.SIGINT)

    def _run(self, step: Step) -> None:
        if step.junit and os.path.exists(step.junit):
            os.remove(step.junit)
        log = RESULTS_DIR / f"{step.name.replace(' ', '-')}.log"
        started = time.monotonic()
        with self.output:
            print(f"=== {step.name}: started", flush=True)
        with log.open("w") as out:
            self.current = subprocess.Popen(
                step.command,
                cwd=REPO_DIR,
                env={**self.env, **(step.env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                # Its own session: an interrupt reaches it once, from stop().
                start_new_session=True,
                preexec_fn=_default_interrupt,
            )
            code, cpu = _wait_with_cpu(self.current)
        self.cpu_seconds += cpu or 0.0
        if step.junit:
            for index, value in enumerate(_count(step.junit)):
                self.totals[index] += value
            if code == 5:  # pytest: no tests collected in this part
                code = 0
        if code != 0:
            self.failures.append(step.name)
        with self.output:
            verdict = "ok" if code == 0 else f"FAILED (exit {code})"
            spent = "" if cpu is None else f", {cpu:.0f}s of CPU"
            print(
                f"\n=== {step.name}: {verdict} in "
                f"{time.monotonic() - started:.0f}s{spent}",
                flush=True,
            )
            print(log.read_text(), end="", flush=True)


def _wait_with_cpu(process: subprocess.Popen) -> tuple[int, float | None]:
    """The step's exit code, and the CPU seconds it and every process it
    waited for spent (its servers and workers too, not PostgreSQL's): what
    the lanes share of the machine's cores. None when an interrupt's
    ``poll`` reaped it first."""
    try:
        _, status, usage = os.wait4(process.pid, 0)
    except ChildProcessError:
        return process.wait(), None
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def main(argv: list[str]) -> int:
    environment.prepare(prefer_external=True, create_databases=False)
    # The services serve the vendored htmx and Chart.js; the lanes' pages
    # load them, so they are in place (or the reason why not said) first.
    try:
        ensure_front_end_assets()
    except FrontEndAssetsUnavailable as error:
        print(f"front-end assets: {error}", file=sys.stderr, flush=True)
        return 1
    env = dict(os.environ)
    # Unit tests pin the approach so a learner's 'approach set' cannot change
    # what they test; cross-service tests choose approaches themselves.
    env["ARCHITECTURE_APPROACH"] = "db_per_service"
    # Test databases are named test_<prefix><name>; a prefix keeps two test
    # runs on one server apart.
    env["DATABASE_NAME_PREFIX"] = os.environ.get("TEST_DATABASE_PREFIX", "")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    print(f"PostgreSQL: {env['DATABASE_SERVER_URL']}", flush=True)
    daemon_before = daemon_pid(state_dir=environment.MOTO_STATE_DIR)
    output = threading.Lock()
    lanes = [Lane(lane, env, output) for lane in lanes_of(argv)]
    started = time.monotonic()
    threads = [threading.Thread(target=lane.run) for lane in lanes]
    signal.signal(signal.SIGTERM, _interrupted)
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        for lane in lanes:
            lane.stop()
        for thread in threads:
            thread.join()
        print("\n=== interrupted: the running steps were stopped")
        return 130
    elapsed = time.monotonic() - started
    failures = [name for lane in lanes for name in lane.failures]
    if _stop_daemon_started_since(daemon_before):
        failures.append("a test left the local AWS daemon running (var/moto)")
    if _kill_processes_left(REPO_DIR):
        failures.append("a test left processes of this checkout running")
    totals = [sum(lane.totals[i] for lane in lanes) for i in range(3)]
    cpu = sum(lane.cpu_seconds for lane in lanes)
    print(f"\n=== summary ({elapsed:.0f}s, {cpu:.0f}s of CPU in the steps)")
    if failures:
        print("failed steps: " + ", ".join(failures))
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 1 if failures else 0


def _stop_daemon_started_since(before: int | None) -> bool:
    """Stop a local AWS daemon (``var/moto``) that some test started and left.

    A test's platform has a moto server of its own, stopped with it; the
    daemon is what a ``manage.py`` command starts under an event-driven
    approach when no AWS endpoint is set, and it outlives the command. One
    started during the run is a test that forgot to give its processes an
    endpoint: stopped here, and the run fails saying so.
    """
    now = daemon_pid(state_dir=environment.MOTO_STATE_DIR)
    if now is None or now == before:
        return False
    stop_moto_daemon(state_dir=environment.MOTO_STATE_DIR)
    print(
        f"\n=== a test started the local AWS daemon (pid {now}, var/moto) and "
        "left it running; it is stopped now. Give the test's processes an "
        "AWS_ENDPOINT_URL of their own (its platform's moto server).",
        flush=True,
    )
    return True


def processes_of(checkout: Path) -> list[tuple[int, str]]:
    """(pid, command line) of the processes started from ``checkout`` (its
    path in their command line) that are not this one or its ancestors;
    PostgreSQL's, whose data may live there on purpose, left out."""
    mine = {os.getpid()}
    pid = os.getpid()
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            pid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
        mine.add(pid)
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if int(entry.name) in mine or name == "postgres":
            continue
        if str(checkout) in command:
            found.append((int(entry.name), command.strip()))
    return found


def _kill_processes_left(checkout: Path) -> bool:
    """Kill what the tests started and left running (a platform's worker a
    fixture lost track of); True if there was any: the run then fails."""
    left = processes_of(checkout)
    for pid, _ in left:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    if left:
        print("\n=== processes the tests left running, killed now:", flush=True)
        for pid, command in left:
            print(f"  {pid} {command[:160]}", flush=True)
    return bool(left)


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def _default_interrupt() -> None:
    """In a step's process: SIGINT interrupts it, even when ``make test`` was
    started in the background (a shell then ignores SIGINT for its children)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

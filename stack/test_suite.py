"""``make test``: lint, each service's tests, then platform and cross-service tests.

The services are separate Django projects, so each runs in its own pytest
process with its own settings. Every run uses PostgreSQL: the server on
127.0.0.1:5432 when one answers, else the embedded one. The closing line
adds up all runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

from shared_events.configuration import REPO_DIR, VAR_DIR
from stack import environment

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


# The read models exist only under cqrs_es (their apps and the read database),
# so their tests run in pytest processes of their own, under that approach.
READ_SIDE_TESTS = {
    "customer": ["customer_service/summaries", "shared_events/tests/test_rebuild.py"],
    "order": ["order_service/order_views"],
}
CQRS = {"ARCHITECTURE_APPROACH": "cqrs_es"}


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
            ["stack", "observe", "platform_cli", "tests"],
            ["-p", "no:django", *pytest_args],
        ),
    ]


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


def main(argv: list[str]) -> int:
    environment.prepare(prefer_external=True, create_databases=False)
    env = dict(os.environ)
    # Unit tests pin the approach so a learner's 'approach set' cannot change
    # what they test; cross-service tests choose approaches themselves.
    env["ARCHITECTURE_APPROACH"] = "db_per_service"
    # Test databases are named test_<prefix><name>; a prefix keeps two test
    # runs on one server apart.
    env["DATABASE_NAME_PREFIX"] = os.environ.get("TEST_DATABASE_PREFIX", "")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    print(f"PostgreSQL: {env['DATABASE_SERVER_URL']}", flush=True)
    failures: list[str] = []
    totals = [0, 0, 0]
    started = time.monotonic()
    for step in steps(argv):
        print(f"\n=== {step.name}", flush=True)
        if step.junit and os.path.exists(step.junit):
            os.remove(step.junit)
        step_env = {**env, **(step.env or {})}
        code = subprocess.run(step.command, cwd=REPO_DIR, env=step_env).returncode
        if step.junit:
            for index, value in enumerate(_count(step.junit)):
                totals[index] += value
            if code == 5:  # pytest: no tests collected in this part
                code = 0
        if code != 0:
            failures.append(step.name)
    elapsed = time.monotonic() - started
    print(f"\n=== summary ({elapsed:.0f}s)")
    if failures:
        print("failed steps: " + ", ".join(failures))
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

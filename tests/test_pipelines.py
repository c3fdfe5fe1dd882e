"""The per-service pipelines in .github/workflows, checked statically.

Each service is tested, built and deployed on its own: its workflow runs on
a change to its folder or to what it is built from, never on a change to
the other service alone, runs its tests the way ``make test`` does
(``stack.test_suite``), and deploys only from main with credentials from
OIDC.
"""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest
import yaml

from shared_events.configuration import REPO_DIR, SERVICES
from stack.test_suite import steps

WORKFLOWS = REPO_DIR / ".github" / "workflows"
SHARED_PATHS = ("shared_events/**", "service_kit/**", "pyproject.toml")


def workflow(service: str) -> dict:
    return yaml.safe_load((WORKFLOWS / f"{service}.yml").read_text())


def triggers(document: dict) -> dict:
    # YAML 1.1 (PyYAML) reads the key ``on`` as the boolean true.
    return document.get("on", document.get(True))


def other(service: str) -> str:
    return next(name for name in SERVICES if name != service)


@pytest.mark.parametrize("service", SERVICES)
def test_workflow_is_valid_by_the_github_workflow_schema(service):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            WORKFLOWS / f"{service}.yml",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_workflow_runs_on_its_service_and_not_on_the_other(service):
    on = triggers(workflow(service))
    assert on["push"]["branches"] == ["main"]
    for event in ("push", "pull_request"):
        paths = on[event]["paths"]
        assert f"{service}_service/**" in paths
        assert not any(path.startswith(f"{other(service)}_service") for path in paths)
        for shared in SHARED_PATHS:
            assert shared in paths


@pytest.mark.parametrize("service", SERVICES)
def test_workflow_runs_the_service_tests_as_make_test_does(service):
    test_job = workflow(service)["jobs"]["test"]
    assert test_job["services"]["postgres"]["image"] == "postgres:16"
    assert test_job["env"]["DATABASE_SERVER_URL"].startswith("postgres://")
    runs = {
        step["run"].strip(): step.get("env", {})
        for step in test_job["steps"]
        if "run" in step
    }
    suite = [s for s in steps([]) if s.name.startswith(f"{service}-")]
    assert {s.name for s in suite} == {f"{service}-service", f"{service}-read-side"}
    for step in suite:
        arguments = [a for a in step.command[3:] if not a.startswith("--junitxml")]
        expected = shlex.join(["python", "-m", "pytest", *arguments])
        assert expected in runs, f"{service}.yml does not run {expected}"
        assert runs[expected] == (step.env or {})


@pytest.mark.parametrize("service", SERVICES)
def test_workflow_builds_the_image(service):
    image_steps = workflow(service)["jobs"]["image"]["steps"]
    builds = [s for s in image_steps if s.get("uses", "").startswith("docker/build")]
    assert builds and builds[0]["with"]["context"] == "."


@pytest.mark.parametrize("service", SERVICES)
def test_workflow_deploys_only_from_main_with_oidc_credentials(service):
    jobs = workflow(service)["jobs"]
    deploy = jobs["deploy"]
    assert {"test", "image"} <= set(deploy["needs"])
    # The deploy waits for the gate job, which runs only on a push to main
    # and finds out whether the deploy role is among the secrets.
    gate = jobs["aws-credentials"]
    assert "aws-credentials" in deploy["needs"]
    assert "refs/heads/main" in gate["if"] and "push" in gate["if"]
    assert "secrets.AWS_DEPLOY_ROLE_ARN" in str(gate["steps"])
    assert deploy["permissions"]["id-token"] == "write"
    credentials = [
        s
        for s in deploy["steps"]
        if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
    ]
    assert len(credentials) == 1
    assert "secrets.AWS_DEPLOY_ROLE_ARN" in credentials[0]["with"]["role-to-assume"]
    assert "aws-access-key-id" not in credentials[0]["with"]
    runs = [s["run"].strip() for s in deploy["steps"] if "run" in s]
    tag = "${{ github.sha }}"
    deploy_run = f"python manage.py deploy --target aws --service {service}"
    assert f"{deploy_run} --image-tag {tag}" in runs
    # The image the stack names is the one this commit pushed, before it.
    pushes = [s for s in deploy["steps"] if s.get("with", {}).get("push") is True]
    assert len(pushes) == 1 and pushes[0]["with"]["tags"].endswith(f":{tag}")
    names = [s.get("name", s.get("uses", "")) for s in deploy["steps"]]
    assert names.index(pushes[0]["name"]) < names.index(
        f"Deploy the {service} service's stack"
    )

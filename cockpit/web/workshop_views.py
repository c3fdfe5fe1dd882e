"""The guided workshop: the five approaches in the paper's order, one step
each, then the migration chapter.

Each step shows the paper's claim, the experiment (one click: the platform
is switched to the step's approach if another runs, then the scenario runs
on it), what to look at, the prediction beside what the last lab run
measured and what this cockpit measured, and a question to think about
before the next step. The steps are the same data ``docs/workshop.md`` is
written from (``lab.workshop``), so the page and the document cannot
disagree. The migration is one click too: a shared_db platform (the one
running, emptied, or a fresh one) is moved along the path with its data
while clients write, and the cockpit stays on cqrs_es where it ends.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from cockpit.jobs import JobRefused
from cockpit.web.job_views import job_context, job_partial, refusal
from cockpit.web.wiring import attached
from cockpit.workshop import (
    MIGRATION,
    RUN_FIRST,
    STEPS,
    latest_migration,
    latest_workshop,
)
from lab.backends import Backend
from lab.flaws import flaw_verdict
from lab.workshop import migration_numbers
from shared_events.approaches import approach_info


def _measured_here(step, controller) -> dict | None:
    """This cockpit's last result for the step's scenario and approach."""
    record = controller.results.get(step.scenario, Backend(step.approach).label)
    if record is None or record.get("measurements") is None:
        return None
    verdict = flaw_verdict(step.scenario, record["measurements"])
    agrees = None
    if verdict.appeared is not None:
        agrees = verdict.appeared == step.flaw_predicted
    text = verdict.text
    if step is MIGRATION:
        text += f" ({migration_numbers(record['measurements'])})"
    return {"text": text, "agrees": agrees, "at": record.get("finished_at")}


@require_GET
def workshop(request: HttpRequest) -> HttpResponse:
    controller = attached().controller

    def entry(item, button: str) -> dict:
        return {
            "item": item,
            "button": button,
            "label": approach_info(item.step.approach).label,
            "here": _measured_here(item.step, controller),
            "command": (
                f"manage.py lab run {item.step.scenario} "
                f"--approach {item.step.approach}"
            ),
        }

    steps = [entry(item, f"Run step {item.number}") for item in latest_workshop()]
    migration = entry(latest_migration(), "Run the migration")
    return render(
        request,
        "cockpit/workshop.html",
        {
            "steps": steps,
            "migration": migration,
            "lab_has_run": any(s["item"].measured for s in [*steps, migration]),
            "run_first": RUN_FIRST,
            "job": job_context(controller.jobs.latest("scenario")),
        },
    )


@require_POST
def run_step(request: HttpRequest, number: int) -> HttpResponse:
    if not 1 <= number <= len(STEPS):
        return refusal(request, f"no step {number}: 1 to {len(STEPS)}", status=404)
    step = STEPS[number - 1]
    try:
        job = attached().controller.run_step(Backend(step.approach), step.scenario)
    except JobRefused as error:
        return refusal(request, str(error), status=409)
    return job_partial(request, job, status=202)


@require_POST
def run_migration(request: HttpRequest) -> HttpResponse:
    try:
        job = attached().controller.run_step(
            Backend(MIGRATION.approach), MIGRATION.scenario
        )
    except JobRefused as error:
        return refusal(request, str(error), status=409)
    return job_partial(request, job, status=202)

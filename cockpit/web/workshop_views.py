"""The guided workshop: the five approaches in the paper's order, one step each.

Each step shows the paper's claim, the experiment (one click: the platform
is switched to the step's approach if another runs, then the scenario runs
on it), what to look at, the prediction beside what the last lab run
measured and what this cockpit measured, and a question to think about
before the next step. The steps are the same data ``docs/workshop.md`` is
written from (``lab.workshop``), so the page and the document cannot
disagree.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from cockpit.jobs import JobRefused
from cockpit.web.job_views import job_context, job_partial, refusal
from cockpit.web.wiring import attached
from cockpit.workshop import RUN_FIRST, STEPS, latest_workshop
from lab.backends import Backend
from lab.flaws import flaw_verdict
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
    return {"text": verdict.text, "agrees": agrees, "at": record.get("finished_at")}


@require_GET
def workshop(request: HttpRequest) -> HttpResponse:
    controller = attached().controller
    filled = latest_workshop()
    steps = [
        {
            "item": item,
            "label": approach_info(item.step.approach).label,
            "here": _measured_here(item.step, controller),
            "command": (
                f"manage.py lab run {item.step.scenario} "
                f"--approach {item.step.approach}"
            ),
        }
        for item in filled
    ]
    return render(
        request,
        "cockpit/workshop.html",
        {
            "steps": steps,
            "lab_has_run": any(s["item"].measured for s in steps),
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

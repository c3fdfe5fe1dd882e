"""The jobs' views: ask for a switch or a scenario, and follow a job.

Each answers an HTML partial of the job (``cockpit/_job.html``), which
polls itself every second while the job runs. What a learner should
notice: a job asked for while another runs is answered 409 with the
reason, and bad input 400 naming the problem, both as partials the page
shows where the job would have been.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from cockpit.charts import canvas_html
from cockpit.jobs import Job, JobRefused, JobState
from cockpit.web.presenting import figure_rows, measurement_rows
from cockpit.web.wiring import attached
from lab.backends import Backend, BackendError


def job_context(job: Job | None) -> dict | None:
    """A job as the partial shows it (and its result, once a scenario is done)."""
    if job is None:
        return None
    context = {**job.as_dict(), "running": job.state is JobState.RUNNING}
    record = job.result if job.kind == "scenario" else None
    if isinstance(record, dict):
        context["record"] = record
        context["rows"] = measurement_rows(record)
        context["figures"] = figure_rows(record)
        # canvas_html escapes the spec into its attribute itself.
        context["charts"] = [
            mark_safe(canvas_html(spec))  # noqa: S308
            for spec in record.get("charts", [])
        ]
    return context


def job_partial(request: HttpRequest, job: Job, *, status: int = 200) -> HttpResponse:
    response = render(
        request, "cockpit/_job.html", {"job": job_context(job)}, status=status
    )
    moved = job.kind == "scenario" and "platform_moved_to" in (job.result or {})
    if (job.kind == "switch" or moved) and job.state is JobState.DONE:
        # The page reloads: the approach, the scenarios and the fragments
        # (a new platform, a new JWT; or the platform the migration moved
        # on) all changed.
        response["HX-Trigger"] = "cockpit-switched"
    elif job.kind == "scenario" and job.state is JobState.DONE:
        # The recent results list it (and the fragments show its data).
        response["HX-Trigger"] = "cockpit-result-kept"
    return response


def refusal(request: HttpRequest, reason: str, *, status: int) -> HttpResponse:
    return render(request, "cockpit/_refused.html", {"reason": reason}, status=status)


@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    spec = request.POST.get("backend", "").strip()
    if not spec:
        return refusal(request, "choose an approach to switch to", status=400)
    try:
        backend = Backend.parse(spec)
    except BackendError as error:
        return refusal(request, str(error), status=400)
    try:
        job = attached().controller.switch(backend)
    except JobRefused as error:
        return refusal(request, str(error), status=409)
    return job_partial(request, job, status=202)


@require_POST
def run_scenario(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("scenario", "").strip()
    if not name:
        return refusal(request, "choose a scenario to run", status=400)
    controller = attached().controller
    if name not in controller.scenarios:
        return refusal(request, f"no scenario {name!r}", status=400)
    try:
        job = controller.run_scenario(name)
    except JobRefused as error:
        return refusal(request, str(error), status=409)
    return job_partial(request, job, status=202)


@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = attached().controller.jobs.get(job_id)
    if job is None:
        return refusal(request, f"no job {job_id}", status=404)
    return job_partial(request, job)


@require_POST
def service_web(request: HttpRequest, service: str, action: str) -> HttpResponse:
    """Stop or start a service's web server (a fault a learner injects by
    hand); the page then loads the fragments again."""
    if action not in ("stop", "start"):
        return refusal(request, f"no action {action!r}: stop or start", status=404)
    controller = attached().controller
    try:
        if action == "stop":
            controller.stop_web(service)
        else:
            controller.start_web(service)
    except JobRefused as error:
        return refusal(request, str(error), status=409)
    response = render(
        request,
        "cockpit/_services.html",
        {"services": controller.web_running()},
    )
    response["HX-Trigger"] = "cockpit-services-changed"
    return response

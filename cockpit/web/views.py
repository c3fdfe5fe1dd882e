"""The cockpit's pages: the overview, the live diagram, the fragments' JWT
and the reports.

Each view reads the controller in-process (``cockpit.web.wiring``) and
renders a template; the jobs' views are in ``cockpit.web.job_views``, the
event and trace browsers in ``cockpit.web.browse_views``.
"""

from __future__ import annotations

import re
import threading
import time

import requests
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from cockpit import LiveSources, architecture, read_numbers, render_svg
from cockpit.matrix import comparison_matrix, render_matrix
from cockpit.web.job_views import job_context
from cockpit.web.wiring import attached
from lab.backends import AWS_FIGURE, Backend
from lab.reports import read_latest_report
from shared_events.approaches import APPROACHES, approach_info

# A JWT lives JWT_ACCESS_MINUTES (5 by default): one is reused for two
# minutes, so page loads do not each sign in (and count as sign-ins).
JWT_REUSE_SECONDS = 120.0


def backend_choices() -> list[dict]:
    """The approaches on their default backends, then the paper's AWS figure."""
    backends = [Backend(approach.value) for approach in APPROACHES]
    backends.append(AWS_FIGURE)
    return [
        {
            "spec": backend.spec,
            "label": f"{approach_info(backend.approach).number}. {backend.label}",
        }
        for backend in backends
    ]


def scenario_choices(controller) -> list[dict]:
    backend = controller.backend
    return [
        {
            "name": scenario.name,
            "title": scenario.title,
            "skipped": scenario.skip_reason(backend) if backend else None,
        }
        for scenario in controller.scenarios.values()
    ]


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    controller = attached().controller
    backend = controller.backend
    return render(
        request,
        "cockpit/overview.html",
        {
            "backend": backend,
            "running": controller.run is not None,
            "approach": approach_info(backend.approach) if backend else None,
            "backends": backend_choices(),
            "scenarios": scenario_choices(controller),
            "switch_job": job_context(controller.jobs.latest("switch")),
            "scenario_job": job_context(controller.jobs.latest("scenario")),
            "results": controller.results.all()[:10],
            "services": controller.web_running(),
        },
    )


@require_GET
def recent_results(request: HttpRequest) -> HttpResponse:
    """The recent results' table, fetched again once a scenario is done."""
    return render(
        request,
        "cockpit/_results_table.html",
        {"results": attached().controller.results.all()[:10]},
    )


@require_GET
def diagram(request: HttpRequest) -> HttpResponse:
    """The architecture of the running platform with its live numbers (the
    page polls this every 2 s and swaps it in)."""
    controller = attached().controller
    backend, run = controller.backend, controller.run
    if backend is None:
        return HttpResponse('<p class="note">No platform has started yet.</p>')
    drawn = architecture(
        backend.approach, delivery=backend.delivery, store=backend.store
    )
    numbers = None
    if run is not None:
        try:
            numbers = read_numbers(LiveSources.of_run(run), drawn)
        except Exception:  # a switch stopped the run while it was read
            numbers = None
    note = "" if run is not None else '<p class="note">The platform is stopped.</p>'
    svg = render_svg(drawn, numbers, id_prefix="diagram-")
    natural = re.search(r'width="(\d+)"', svg)
    width = natural.group(1) if natural else "0"
    return HttpResponse(
        f'{note}<div class="diagram-box" style="--natural-width: {width}px">{svg}</div>'
    )


_jwt_lock = threading.Lock()
_jwt_cache: dict[tuple[str, str], tuple[float, str]] = {}


@require_GET
def platform_jwt(request: HttpRequest) -> JsonResponse:
    """A JWT for the fragments: the cockpit signs its user in through the
    gateway, server-side; the page gets the access token, never a password."""
    wired = attached()
    sign_in = wired.controller.sign_in
    if sign_in is None:
        return JsonResponse({"detail": "no platform runs"}, status=503)
    key = (sign_in.username, sign_in.password)
    with _jwt_lock:
        obtained = _jwt_cache.get(key)
        if obtained is None or time.monotonic() - obtained[0] > JWT_REUSE_SECONDS:
            try:
                answer = requests.post(
                    f"{wired.gateway_url}/auth/token/",
                    json={"username": sign_in.username, "password": sign_in.password},
                    timeout=10,
                )
            except requests.RequestException as error:
                return JsonResponse(
                    {"detail": f"the gateway did not answer: {error}"}, status=502
                )
            if answer.status_code != 200:
                return JsonResponse(
                    {"detail": f"sign-in refused ({answer.status_code})"}, status=502
                )
            obtained = (time.monotonic(), answer.json()["access"])
            _jwt_cache.clear()
            _jwt_cache[key] = obtained
    response = JsonResponse({"access": obtained[1]})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    """The cockpit's results as the comparison matrix (a row per scenario, a
    column per approach), then the lab's last comparison (``manage.py lab
    compare``), drawn the same way."""
    results = attached().controller.results.all()
    mine = comparison_matrix(
        {
            "title": "Measured in this cockpit",
            "generated_at": results[0]["finished_at"] if results else "",
            "results": list(reversed(results)),
        }
    )
    latest = read_latest_report()
    return render(
        request,
        "cockpit/reports.html",
        {
            "results": results,
            # render_matrix escapes every value it writes.
            "matrix": mark_safe(render_matrix(mine)),  # noqa: S308
            "lab_matrix": mark_safe(  # noqa: S308
                render_matrix(comparison_matrix(latest))
            )
            if latest
            else None,
            "lab_generated_at": (latest or {}).get("generated_at", ""),
        },
    )

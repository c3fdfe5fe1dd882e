"""Browsing what the running platform recorded: an aggregate's events
(``cockpit.history``) and one request's trace (``cockpit.waterfall``).

What a learner should notice: both pages read the platform as it is now,
from where the facts live (the service's history API, the run's span
database); under an approach that keeps no event store the history page
says why there is none instead of showing an empty table.
"""

from __future__ import annotations

import re
import uuid

import psycopg2
import requests
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from cockpit.history import AGGREGATES, HistoryUnavailable, render_history, run_history
from cockpit.waterfall import render_waterfall
from cockpit.web.wiring import attached
from stack.connections import open_connection
from stack.span_receiver import telemetry_database_url
from stack.span_store import load_trace

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


def _bad_request(text: str) -> HttpResponse:
    return HttpResponse(text, status=400, content_type="text/plain")


@require_GET
def find_events(request: HttpRequest) -> HttpResponse:
    """The event browser's form (GET): to the aggregate's page."""
    aggregate = request.GET.get("aggregate", "")
    if aggregate not in AGGREGATES:
        return _bad_request(f"aggregate must be one of {', '.join(AGGREGATES)}")
    try:
        aggregate_id = uuid.UUID(request.GET.get("aggregate_id", "").strip())
    except ValueError:
        return _bad_request("aggregate_id must be a UUID")
    return redirect("events", aggregate=aggregate, aggregate_id=aggregate_id)


@require_GET
def events(request: HttpRequest, aggregate: str, aggregate_id: uuid.UUID):
    """One aggregate's events, as its service's history answers them."""
    if aggregate not in AGGREGATES:
        return HttpResponse(
            f"no aggregate {aggregate!r}: one of {', '.join(AGGREGATES)}",
            status=404,
            content_type="text/plain",
        )
    run = attached().controller.run
    table, reason = None, ""
    if run is None:
        reason = "no platform runs: switch to an approach first"
    else:
        try:
            found = run_history(
                run, aggregate=aggregate, aggregate_id=str(aggregate_id)
            )
            # render_history escapes every value it writes.
            table = mark_safe(render_history(found))  # noqa: S308
        except HistoryUnavailable as error:
            reason = str(error)
        except requests.RequestException as error:
            reason = f"the service did not answer: {error}"
    return render(
        request,
        "cockpit/events.html",
        {
            "aggregate": aggregate,
            "aggregate_id": aggregate_id,
            "table": table,
            "reason": reason,
        },
    )


@require_GET
def trace(request: HttpRequest, trace_id: str) -> HttpResponse:
    """One trace's spans as a waterfall, read from the run's span database."""
    if not TRACE_ID.match(trace_id):
        return _bad_request("a trace id is 32 lowercase hex digits")
    run = attached().controller.run
    drawing, reason = None, ""
    if run is None:
        reason = "no platform runs: switch to an approach first"
    else:
        url = telemetry_database_url(
            server_url=run.env["DATABASE_SERVER_URL"],
            prefix=run.env["DATABASE_NAME_PREFIX"],
        )
        try:
            with open_connection(url) as connection:
                spans = load_trace(connection, trace_id)
        except psycopg2.Error as error:
            spans, reason = [], f"the span database did not answer: {error}"
        if spans:
            # An SVG built with ElementTree, which escapes every text.
            drawing = mark_safe(render_waterfall(spans))  # noqa: S308
        elif not reason:
            reason = "no span of this trace was recorded (yet)"
    return render(
        request,
        "cockpit/trace.html",
        {"trace_id": trace_id, "drawing": drawing, "reason": reason},
    )

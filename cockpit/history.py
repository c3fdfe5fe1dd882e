"""An aggregate's history, for the event browser: each event's envelope, in order.

``aggregate_history(base_url=..., aggregate="customers", aggregate_id=...,
token=...)`` asks a service (or the gateway, ``api_prefix=""``) for
``<customers|orders>/<id>/history/``, follows its pages and returns each
event as a ``HistoryEvent``: its type, version, when it occurred, its
correlation and causation ids and the trace id of its W3C traceparent.
``render_history(events)`` is the HTML table an event browser shows, each row
linking its trace (``/traces/<trace id>/``) and its cause.

What a learner should notice: under event sourcing a deleted customer is not
gone. Its history still answers, and ends in ``CustomerDeleted``; the
correlation id ties every event of one request together, the causation id
names the event that caused this one, and the trace id opens the waterfall
of the request that recorded it. Under an approach that keeps no event store
the service answers 404, which ``HistoryUnavailable`` carries with its
reason.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from urllib.parse import quote

import requests

from shared_events.events.trace_context import is_traceparent, trace_id_of

AGGREGATES = ("customers", "orders")
TIMEOUT_SECONDS = 5.0
# A history is paged by the service (100 events a page at most); a browser
# shows no more pages than this.
MAX_PAGES = 50


class HistoryUnavailable(Exception):
    """The service gave no history: its status and the reason it said."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class HistoryEvent:
    event_id: str
    event_type: str
    version: int
    occurred_at: str
    correlation_id: str | None
    causation_id: str | None
    trace_id: str | None
    # The event as the service recorded it, payload and envelope fields.
    envelope: dict = field(default_factory=dict, compare=False)

    @classmethod
    def of_answer(cls, item: dict) -> HistoryEvent:
        """One event from a history page (``StoredEventOutputSerializer``)."""
        traceparent = (item.get("trace_context") or {}).get("traceparent")
        return cls(
            event_id=item["event_id"],
            event_type=item["event_type"],
            version=item["aggregate_version"],
            occurred_at=item["occurred_at"],
            correlation_id=item.get("correlation_id"),
            causation_id=item.get("causation_id"),
            trace_id=trace_id_of(traceparent) if is_traceparent(traceparent) else None,
            envelope=dict(item),
        )

    def as_dict(self) -> dict:
        return asdict(self)


def history_url(
    *, base_url: str, aggregate: str, aggregate_id: str, api_prefix: str = "/api"
) -> str:
    """Where the history is: ``/api/customers/<id>/history/`` on a service,
    ``/customers/<id>/history/`` on the gateway (``api_prefix=""``)."""
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}")
    return (
        f"{base_url.rstrip('/')}{api_prefix}/{aggregate}/"
        f"{quote(str(aggregate_id), safe='')}/history/"
    )


def aggregate_history(
    *,
    base_url: str,
    aggregate: str,
    aggregate_id: str,
    token: str,
    scheme: str = "Bearer",
    api_prefix: str = "/api",
) -> list[HistoryEvent]:
    """Every event of one aggregate, oldest first, read page by page.

    ``token`` is a JWT (``scheme="Bearer"``) or a service token
    (``scheme="Token"``, as ``PlatformRun.token``). Raises
    ``HistoryUnavailable`` when the service answers anything but 200."""
    session = requests.Session()
    session.headers["Authorization"] = f"{scheme} {token}"
    url: str | None = history_url(
        base_url=base_url,
        aggregate=aggregate,
        aggregate_id=aggregate_id,
        api_prefix=api_prefix,
    )
    events: list[HistoryEvent] = []
    for _ in range(MAX_PAGES):
        if url is None:
            break
        response = session.get(url, timeout=TIMEOUT_SECONDS)
        if response.status_code != 200:
            raise HistoryUnavailable(response.status_code, _reason(response))
        page = response.json()
        events += [HistoryEvent.of_answer(item) for item in page["results"]]
        url = page.get("next")
    return sorted(events, key=lambda event: event.version)


def _reason(response: requests.Response) -> str:
    try:
        return str(response.json().get("detail", response.reason))
    except ValueError:
        return response.reason or "no reason given"


def run_history(run, *, aggregate: str, aggregate_id: str) -> list[HistoryEvent]:
    """The history as a running platform's own service answers it
    (``stack.platform_run.PlatformRun``: its URLs and its service token)."""
    service = {"customers": "customer", "orders": "order"}.get(aggregate)
    if service is None:
        raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}")
    return aggregate_history(
        base_url=run.url(service),
        aggregate=aggregate,
        aggregate_id=aggregate_id,
        token=run.token,
        scheme="Token",
    )


HEADER = [
    "version",
    "event",
    "occurred at",
    "correlation id",
    "caused by",
    "trace",
    "envelope",
]


def _cell(value: str | None, *, link: str | None = None) -> str:
    if value is None:
        return "<td>-</td>"
    text = html.escape(value)
    if link is None:
        return f"<td><code>{text}</code></td>"
    return f'<td><a href="{html.escape(link)}"><code>{text}</code></a></td>'


def _envelope_cell(event: HistoryEvent) -> str:
    """The whole recorded event, folded: open it to read its payload."""
    if not event.envelope:
        return "<td>-</td>"
    text = html.escape(json.dumps(event.envelope, indent=2, sort_keys=True))
    return (
        f"<td><details><summary>v{event.version} {html.escape(event.event_type)}"
        f'</summary><pre class="envelope">{text}</pre></details></td>'
    )


def render_history(events: list[HistoryEvent]) -> str:
    """The events as an HTML table fragment, a row per event (``id``: its
    event id), linking each trace to ``/traces/<trace id>/`` and each cause to
    its row when it is in this history."""
    if not events:
        return '<p class="history-empty">This aggregate has recorded no events.</p>'
    here = {event.event_id for event in events}
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in HEADER)
    rows = []
    for event in events:
        cause = event.causation_id
        rows.append(
            f'<tr id="event-{html.escape(event.event_id)}">'
            f"<td>{event.version}</td>"
            f"<td>{html.escape(event.event_type)}</td>"
            f"<td>{html.escape(event.occurred_at)}</td>"
            + _cell(event.correlation_id)
            + _cell(cause, link=f"#event-{cause}" if cause in here else None)
            + _cell(
                event.trace_id,
                link=f"/traces/{event.trace_id}/" if event.trace_id else None,
            )
            + _envelope_cell(event)
            + "</tr>"
        )
    return (
        '<table class="history"><caption>Events, oldest first</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )

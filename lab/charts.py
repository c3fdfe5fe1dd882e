"""Chart.js charts of a scenario run, as plain data: one spec, two pages.

Each function turns measurements into a Chart.js configuration (a dict that
``json.dumps`` writes as it is): the distribution of the commit-to-applied
lag, the failed requests by status, and the requests answered over time.
``canvas_html`` puts a spec on a ``<canvas data-chart='...'>``, and one small
script (``CHARTS_SCRIPT``, ``lab/static/charts.js``) finds those canvases and
draws them with ``window.Chart``.

What a learner should notice: the lab's standalone HTML report and the
cockpit's pages call the same functions and load the same script, so a chart
means the same thing wherever it is seen. The numbers come only from what was
measured (``lab.measurements``); a chart with nothing to show is ``None``,
never an empty picture that looks like "no lag" or "no failures".
"""

from __future__ import annotations

import html
import json
import math
from collections import Counter

from lab.runner import ScenarioResult
from shared_events.configuration import REPO_DIR

CHARTS_SCRIPT = REPO_DIR / "lab" / "static" / "charts.js"
# The vendored Chart.js (``stack.front_end_assets`` fetches it, pinned by
# ``front_end/package-lock.json``).
CHART_JS = REPO_DIR / "service_kit" / "static" / "vendor" / "chart.umd.min.js"

HISTOGRAM_BINS = 12
OK_COLOUR = "#4a78b5"
FAILED_COLOUR = "#c0392b"
# One colour per HTTP status class, so the same status looks the same in every
# chart: 4xx amber (the client's request refused), 5xx red (the service broke),
# no answer at all grey.
STATUS_COLOURS = {"4": "#e69f00", "5": FAILED_COLOUR}
NO_ANSWER_COLOUR = "#7f7f7f"


def _titled(
    title: str, *, x: str, y: str, stacked: bool = False, counts: bool = True
) -> dict:
    """Options every chart shares: a title, named axes, no animation (a
    screenshot or a printed report shows the finished chart), and whole
    numbers on the y axis of a chart that counts."""
    return {
        "animation": False,
        "responsive": False,
        "plugins": {"title": {"display": True, "text": title}},
        "scales": {
            "x": {"title": {"display": True, "text": x}, "stacked": stacked},
            "y": {
                "title": {"display": True, "text": y},
                "beginAtZero": True,
                "stacked": stacked,
                "ticks": {"precision": 0} if counts else {},
            },
        },
    }


def _bin_width(largest: float) -> float:
    """A round bin width (1, 2 or 5 times a power of ten) giving at most
    ``HISTOGRAM_BINS`` bins up to ``largest``."""
    raw = max(largest, 1.0) / HISTOGRAM_BINS
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


def lag_distribution_chart(result: ScenarioResult) -> dict | None:
    """A histogram of the commit-to-applied lag samples (ms) of one run.

    ``None`` where nothing was applied downstream (the synchronous
    approaches keep no replica: there is no lag to draw)."""
    samples = result.measurements.lag_samples_ms if result.measurements else []
    if not samples:
        return None
    width = _bin_width(max(samples))
    counts = Counter(min(int(max(v, 0) // width), HISTOGRAM_BINS) for v in samples)
    bins = range(max(counts) + 1)
    return {
        "type": "bar",
        "data": {
            "labels": [f"{b * width:g}-{(b + 1) * width:g}" for b in bins],
            "datasets": [
                {
                    "label": "events applied",
                    "data": [counts.get(b, 0) for b in bins],
                    "backgroundColor": OK_COLOUR,
                }
            ],
        },
        "options": _titled(
            f"Lag from commit to applied: {result.scenario} under {result.label} "
            f"({len(samples)} events)",
            x="lag (ms)",
            y="events",
        ),
    }


def _status_colour(status: str) -> str:
    return STATUS_COLOURS.get(status[:1], NO_ANSWER_COLOUR)


def failed_requests_chart(results: list[ScenarioResult]) -> dict | None:
    """Failed requests by status, a stacked bar per run ("scenario / approach").

    ``None`` when no run failed a request: "nothing failed" is said in the
    table, not drawn as an empty chart."""
    measured = [r for r in results if r.measurements is not None]
    statuses = sorted({s for r in measured for s in r.measurements.failed_requests})
    if not statuses:
        return None
    return {
        "type": "bar",
        "data": {
            "labels": [f"{r.scenario} / {r.label}" for r in measured],
            "datasets": [
                {
                    "label": status,
                    "data": [
                        r.measurements.failed_requests.get(status, 0) for r in measured
                    ],
                    "backgroundColor": _status_colour(status),
                }
                for status in statuses
            ],
        },
        "options": _titled(
            "Failed requests by status",
            x="scenario / approach",
            y="requests",
            stacked=True,
        ),
    }


def requests_over_time_chart(result: ScenarioResult) -> dict | None:
    """Requests answered per second of one run, the successful and the failed
    ones as two lines: when a service is down, the failures show *when*.

    Drawn from each answer the lab's client recorded (``Measurements.answers``);
    ``None`` for a run that sent no request through it."""
    answers = result.measurements.answers if result.measurements else []
    if not answers:
        return None
    seconds = range(int(max(at for at, _ in answers)) + 1)
    ok = Counter(
        int(at) for at, status in answers if status.startswith(("1", "2", "3"))
    )
    failed = Counter(int(at) for at, _ in answers) - ok
    return {
        "type": "line",
        "data": {
            "labels": [str(s) for s in seconds],
            "datasets": [
                {
                    "label": "answered (2xx/3xx)",
                    "data": [ok.get(s, 0) for s in seconds],
                    "borderColor": OK_COLOUR,
                    "backgroundColor": OK_COLOUR,
                },
                {
                    "label": "failed (4xx/5xx/no answer)",
                    "data": [failed.get(s, 0) for s in seconds],
                    "borderColor": FAILED_COLOUR,
                    "backgroundColor": FAILED_COLOUR,
                    "borderDash": [6, 3],
                },
            ],
        },
        "options": _titled(
            f"Requests per second: {result.scenario} under {result.label}",
            x="seconds since the scenario started",
            y="requests",
        ),
    }


def lag_p99_chart(results: list[ScenarioResult]) -> dict | None:
    """The 99th percentile of the lag, a bar per run ("approach / scenario"):
    the eventual consistency each approach pays, side by side."""
    lagging = [
        r
        for r in results
        if r.measurements is not None and r.measurements.lag_p99_ms is not None
    ]
    if not lagging:
        return None
    return {
        "type": "bar",
        "data": {
            "labels": [f"{r.label} / {r.scenario}" for r in lagging],
            "datasets": [
                {
                    "label": "lag p99 (ms)",
                    "data": [round(r.measurements.lag_p99_ms, 1) for r in lagging],
                    "backgroundColor": OK_COLOUR,
                }
            ],
        },
        "options": _titled(
            "Consistency lag p99 per approach and scenario",
            x="approach / scenario",
            y="lag p99 (ms)",
            counts=False,
        ),
    }


def run_charts(results: list[ScenarioResult]) -> list[dict]:
    """Every chart a list of runs has data for, in the order a report shows
    them: the failures and the lag p99 of all runs, then each run's lag
    distribution and requests over time."""
    charts = [failed_requests_chart(results), lag_p99_chart(results)]
    for result in results:
        charts += [lag_distribution_chart(result), requests_over_time_chart(result)]
    return [chart for chart in charts if chart is not None]


def chart_title(spec: dict) -> str:
    return spec["options"]["plugins"]["title"]["text"]


def canvas_html(spec: dict, *, width: int = 720, height: int = 300) -> str:
    """A ``<canvas>`` carrying ``spec`` for ``charts.js``; its title is its
    accessible name, and its fallback text says what it would show."""
    title = html.escape(chart_title(spec))
    data = html.escape(json.dumps(spec, separators=(",", ":")), quote=True)
    return (
        f'<canvas role="img" aria-label="{title}" width="{width}" height="{height}" '
        f"data-chart='{data}'>{title}</canvas>"
    )


def inline_scripts() -> str:
    """Chart.js and ``charts.js`` as inline ``<script>`` elements: a report
    opened from disk, offline, draws its charts without any server."""
    return "".join(
        f"<script>{path.read_text()}</script>" for path in (CHART_JS, CHARTS_SCRIPT)
    )

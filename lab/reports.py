"""The lab's outputs: a terminal table, JSON, Markdown and HTML with charts.

The HTML report's charts are the cockpit's: Chart.js specs from
``lab.charts``, drawn by the same ``charts.js``, with Chart.js itself inlined
so the file opens offline, from disk.

All four are rendered from the same list of results, so they agree. Each
row names its approach and, when they are not the default ones, its
backends (``cqrs_es (Kinesis + DynamoDB Streams)``); a scenario skipped on a
backend shows the reason instead of numbers. A scenario's own numbers (a
phase's latency, the stale reads) are its "scenario figures". Below the
results, "What CQRS costs": each platform's processes, memory, databases,
queues and code, measured while it ran (``lab.costs``).
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path

from lab.charts import canvas_html, inline_scripts, run_charts
from lab.costs import COST_COLUMNS, COSTS_NOTE, PlatformCost, cost_row, stages_text
from lab.expectations import contradiction
from lab.runner import ScenarioResult
from shared_events.configuration import REPO_DIR

REPORTS_DIR = REPO_DIR / "reports"
COLUMNS = [
    "scenario",
    "approach",
    "orphans",
    "lost",
    "not yet applied",
    "dup. effects",
    "failed",
    "lag p50/p99 ms",
    "cmd/s",
    "events",
    "backlog drained",
    "audit",
]


BACKENDS_NOTE = (
    "A row whose approach names no backends ran on the defaults: SNS fanning out "
    "to SQS, and (approaches 4, 5) PostgreSQL's event store with its outbox."
)


def _n(value) -> str:
    return "n/a" if value is None else str(value)


def _ms(value) -> str:
    return "-" if value is None else f"{value:.0f}"


def row_values(result: ScenarioResult) -> list[str]:
    m = result.measurements
    if m is None:
        return [
            result.scenario,
            result.label,
            *["-"] * (len(COLUMNS) - 3),
            "skipped",
        ]
    failed = str(m.failed_request_count)
    if m.failed_requests:
        failed += (
            " ("
            + ", ".join(
                f"{count}x{status}"
                for status, count in sorted(m.failed_requests.items())
            )
            + ")"
        )
    return [
        result.scenario,
        result.label,
        str(m.orphan_orders),
        _n(m.events_lost),
        _n(m.not_yet_applied),
        _n(m.duplicate_effects),
        failed,
        f"{_ms(m.lag_p50_ms)}/{_ms(m.lag_p99_ms)}",
        f"{m.commands_per_second:.1f}",
        _n(m.events_stored),
        _drained(m),
        m.audit,
    ]


def _drained(m) -> str:
    """Events queued when the commands stopped, and how long they took to drain."""
    if m.backlog_at_end is None:
        return "n/a"
    if m.backlog_at_end == 0 and m.drain_seconds is not None:
        return "0"
    if m.drain_seconds is None:
        return f"{m.backlog_at_end}, not in time"
    return f"{m.backlog_at_end} in {m.drain_seconds:.1f}s"


def figures_text(result: ScenarioResult) -> str:
    """The scenario's own numbers, by group: "slow: cmd/s 3.1, p99 ms 510"."""
    m = result.measurements
    if m is None or not m.figures:
        return ""
    return "; ".join(
        f"{group}: "
        + ", ".join(f"{name} {_n(value)}" for name, value in values.items())
        for group, values in m.figures.items()
    )


def lesson_text(result: ScenarioResult) -> str:
    if result.measurements is None:
        return result.lesson
    surprise = contradiction(result.scenario, result.approach, result.measurements)
    if surprise:
        return f"{result.lesson} [CONTRADICTS THE PAPER: {surprise}]"
    return result.lesson


def _aligned(columns: list[str], rows: list[list[str]]) -> tuple[str, list[str]]:
    """The header line and each row, in columns as wide as their widest cell."""
    widths = [
        max(len(columns[i]), *(len(row[i]) for row in rows))
        for i in range(len(columns))
    ]
    header = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows
    ]
    return header, lines


def render_table(results: list[ScenarioResult]) -> str:
    line, lines = _aligned(COLUMNS, [row_values(r) for r in results])
    out = [line, "-" * len(line)]
    for result, row_line in zip(results, lines, strict=True):
        out.append(row_line)
        out.append(" " * 4 + "lesson: " + lesson_text(result))
        if figures_text(result):
            out.append(" " * 4 + "figures: " + figures_text(result))
    if any(not result.backend.is_default for result in results):
        out.append(BACKENDS_NOTE)
    return "\n".join(out)


def render_costs_table(costs: list[PlatformCost]) -> str:
    """What CQRS costs, for the terminal: one row per platform."""
    line, lines = _aligned(COST_COLUMNS, [cost_row(cost) for cost in costs])
    out = ["What CQRS costs", line, "-" * len(line), *lines]
    out += [" " * 4 + stages_text(cost) for cost in costs]
    out.append(COSTS_NOTE)
    return "\n".join(out)


def _markdown_costs(costs: list[PlatformCost]) -> list[str]:
    if not costs:
        return []
    out = ["", "## What CQRS costs", "", "| " + " | ".join(COST_COLUMNS) + " |"]
    out.append("|" + "---|" * len(COST_COLUMNS))
    out += ["| " + " | ".join(cost_row(cost)) + " |" for cost in costs]
    out += ["", *(f"- {stages_text(cost)}" for cost in costs), "", COSTS_NOTE]
    return out


def render_markdown(
    results: list[ScenarioResult], *, title: str, costs: list[PlatformCost] = ()
) -> str:
    header = [*COLUMNS, "scenario figures", "lesson"]
    out = [f"# {title}", "", "| " + " | ".join(header) + " |"]
    out.append("|" + "---|" * len(header))
    for result in results:
        values = [*row_values(result), figures_text(result), lesson_text(result)]
        out.append("| " + " | ".join(v.replace("|", "/") for v in values) + " |")
    if any(not result.backend.is_default for result in results):
        out += ["", BACKENDS_NOTE]
    out += _markdown_costs(list(costs))
    return "\n".join(out) + "\n"


def _bar_chart(title: str, bars: list[tuple[str, float]], unit: str) -> str:
    # Wide labels: "cqrs_es (Kinesis + DynamoDB Streams) / duplicate-delivery".
    width, bar_height, gap, label_width = 820, 18, 6, 400
    top = max((value for _, value in bars), default=0) or 1
    height = 30 + len(bars) * (bar_height + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="0" y="16" font-weight="bold">{html.escape(title)}</text>',
    ]
    for index, (label, value) in enumerate(bars):
        y = 26 + index * (bar_height + gap)
        length = (width - label_width - 80) * value / top
        parts.append(
            f'<text x="0" y="{y + 13}" font-size="12">{html.escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" '
            f'height="{bar_height}" fill="#4a78b5"/>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + 13}" '
            f'font-size="12">{value:g} {unit}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _html_costs(costs: list[PlatformCost]) -> str:
    if not costs:
        return ""
    header = "".join(f"<th>{html.escape(c)}</th>" for c in COST_COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in cost_row(cost)) + "</tr>"
        for cost in costs
    )
    stages = "".join(f"<li>{html.escape(stages_text(cost))}</li>" for cost in costs)
    memory = _bar_chart(
        "Resident memory per approach",
        [(cost.label, round(cost.running.rss_bytes / 2**20)) for cost in costs],
        "MiB",
    )
    code = _bar_chart(
        "Lines of code each approach activates",
        [(cost.label, cost.code.total) for cost in costs],
        "lines",
    )
    return (
        f"<h2>What CQRS costs</h2><table><thead><tr>{header}</tr></thead>"
        f"<tbody>{body}</tbody></table><ul>{stages}</ul>"
        f"<p>{html.escape(COSTS_NOTE)}</p>{memory}{code}"
    )


def render_html(
    results: list[ScenarioResult], *, title: str, costs: list[PlatformCost] = ()
) -> str:
    header = "".join(
        f"<th>{html.escape(c)}</th>" for c in [*COLUMNS, "scenario figures", "lesson"]
    )
    measured = [r for r in results if r.measurements is not None]
    note = ""
    if any(not result.backend.is_default for result in results):
        note = f"<p>{html.escape(BACKENDS_NOTE)}</p>"
    body = []
    for result in results:
        cells = [*row_values(result), figures_text(result), lesson_text(result)]
        body.append(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
        )
    charts = "".join(
        f"<figure>{canvas_html(spec)}</figure>" for spec in run_charts(measured)
    )
    if not charts:
        charts = "<p>No run measured failures, lag or requests to chart.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 6px;font-size:13px;vertical-align:top}}
th{{background:#eee}}</style></head><body>
<h1>{html.escape(title)}</h1>
<table><thead><tr>{header}</tr></thead><tbody>{"".join(body)}</tbody></table>
{note}
<h2>Failures, lag and requests over time</h2>{charts}
{_html_costs(list(costs))}
{inline_scripts()}
</body></html>
"""


def write_reports(
    results: list[ScenarioResult], *, title: str, costs: list[PlatformCost] = ()
) -> dict[str, Path]:
    """Write JSON, Markdown and HTML under reports/ (git-ignored); their paths."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = REPORTS_DIR / stamp
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": folder / "lab.json",
        "markdown": folder / "lab.md",
        "html": folder / "lab.html",
    }
    data = {
        "title": title,
        "generated_at": stamp,
        "results": [
            {
                **result.as_dict(),
                "lesson": lesson_text(result),
                "contradiction": (
                    contradiction(result.scenario, result.approach, result.measurements)
                    if result.measurements is not None
                    else None
                ),
            }
            for result in results
        ],
        "costs": [cost.as_dict() for cost in costs],
    }
    paths["json"].write_text(json.dumps(data, indent=2))
    paths["markdown"].write_text(render_markdown(results, title=title, costs=costs))
    paths["html"].write_text(render_html(results, title=title, costs=costs))
    latest = REPORTS_DIR / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(folder.name)
    return paths


def read_latest_report(reports_dir: Path | None = None) -> dict | None:
    """The JSON of the last lab run (``reports/latest/lab.json``), or None
    when the lab has not run yet."""
    path = (reports_dir or REPORTS_DIR) / "latest" / "lab.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text())

"""One trace as a waterfall: a row per span, on one time axis in milliseconds.

``render_waterfall(spans)`` draws the spans of one trace (``observe.traces``)
the way Jaeger does: each span a bar from its start to its end on an axis
shared by the whole trace, its row indented under its parent, labelled with
the process that recorded it, the span's name and its duration, and coloured
by process. The SVG is standalone and accessible (``role="img"``, a
``<title>`` and a ``<desc>`` saying in words what it shows); every row is a
``<g data-span="<span id>">``.

What a learner should notice: under the event-driven approaches one command
is one trace across processes that never call each other: the web process,
its relay, the broker call, the consumer, the projectors. The trace context
rode in the event's envelope. A span whose parent is not in the trace (the
context was lost on a hop, or a process has not exported yet) is drawn with
a dashed outline and labelled "parent missing", so a broken hop is seen, not
guessed.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ElementTree
from collections import defaultdict

from stack.span_store import Span

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
TEXT_COLOUR = "#111111"
AXIS_COLOUR = "#6b6b6b"
# Mid-tone fills distinct from each other; the process's name is in every
# label, so colour is never the only way to tell processes apart.
PROCESS_COLOURS = [
    "#4a78b5",
    "#e69f00",
    "#2a9d8f",
    "#b5523b",
    "#8e6bb8",
    "#56a0d3",
    "#7a8c2e",
    "#c2577f",
    "#6b6b6b",
]
LABEL_WIDTH = 430
BAR_AREA = 520
ROW_HEIGHT = 22
INDENT = 14
TOP = 44
MARGIN = 10
TICKS = 6
# About how wide a character of the 12px label font is: a label longer than
# its column is cut with "…" (the row's <title> keeps it whole).
CHARACTER_WIDTH = 6.6


def span_rows(spans: list[Span]) -> list[tuple[Span, int]]:
    """The spans in the order a waterfall shows them, each with its depth:
    children under their parent, siblings by start time. A span whose parent
    is missing starts a tree of its own at depth 0."""
    ids = {span.span_id for span in spans}
    children: dict[str | None, list[Span]] = defaultdict(list)
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children[parent].append(span)
    rows: list[tuple[Span, int]] = []

    def visit(span: Span, depth: int) -> None:
        rows.append((span, depth))
        for child in sorted(children[span.span_id], key=lambda s: s.start_ns):
            visit(child, depth + 1)

    for root in sorted(children[None], key=lambda s: s.start_ns):
        visit(root, 0)
    return rows


def parent_missing(span: Span, ids: set[str]) -> bool:
    return span.parent_span_id is not None and span.parent_span_id not in ids


def process_colours(spans: list[Span]) -> dict[str, str]:
    """A colour per process, in order of first appearance in the trace."""
    order = list(dict.fromkeys(span.service for span in sorted(spans, key=_start)))
    return {
        name: PROCESS_COLOURS[index % len(PROCESS_COLOURS)]
        for index, name in enumerate(order)
    }


def _start(span: Span) -> int:
    return span.start_ns


def _tick_step(total_ms: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) for about ``TICKS`` ticks."""
    raw = max(total_ms, 0.001) / TICKS
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


def _sub(parent: ElementTree.Element, tag: str, text: str | None = None, **attrs):
    element = ElementTree.SubElement(
        parent, tag, {k.rstrip("_").replace("_", "-"): str(v) for k, v in attrs.items()}
    )
    if text is not None:
        element.text = text
    return element


def describe(spans: list[Span]) -> str:
    """The waterfall in words, for a screen reader."""
    if not spans:
        return "No spans were recorded for this trace."
    began = min(span.start_ns for span in spans)
    ended = max(span.end_ns for span in spans)
    processes = list(process_colours(spans))
    ids = {span.span_id for span in spans}
    missing = sum(1 for span in spans if parent_missing(span, ids))
    text = (
        f"{len(spans)} spans from {len(processes)} processes "
        f"({', '.join(processes)}) over {(ended - began) / 1e6:.1f} ms."
    )
    if missing:
        text += f" {missing} spans have no parent in the trace."
    return text


def render_waterfall(spans: list[Span], *, title: str = "") -> str:
    """The trace as a standalone SVG waterfall (see the module's docstring)."""
    trace_id = spans[0].trace_id if spans else ""
    title = title or (f"Trace {trace_id}" if trace_id else "Trace")
    rows = span_rows(spans)
    width = LABEL_WIDTH + BAR_AREA + 2 * MARGIN
    height = TOP + max(len(rows), 1) * ROW_HEIGHT + MARGIN
    root = ElementTree.Element(
        "svg",
        {
            "xmlns": SVG_NAMESPACE,
            "width": str(width),
            "height": str(height),
            "viewBox": f"0 0 {width} {height}",
            "role": "img",
            "aria-labelledby": "waterfall-title waterfall-desc",
            "font-family": "sans-serif",
            "font-size": "12",
            "class": "waterfall",
            "data-trace": trace_id,
        },
    )
    _sub(root, "title", title, id="waterfall-title")
    _sub(root, "desc", describe(spans), id="waterfall-desc")
    if not spans:
        _sub(root, "text", "(no spans)", x=MARGIN, y=TOP, fill=TEXT_COLOUR)
        return ElementTree.tostring(root, encoding="unicode")
    began = min(span.start_ns for span in spans)
    total_ms = max((max(s.end_ns for s in spans) - began) / 1e6, 0.001)
    scale = BAR_AREA / total_ms
    left = MARGIN + LABEL_WIDTH
    _axis(root, total_ms=total_ms, scale=scale, left=left, bottom=height - MARGIN)
    colours = process_colours(spans)
    ids = {span.span_id for span in spans}
    for index, (span, depth) in enumerate(rows):
        _row(
            root,
            span,
            y=TOP + index * ROW_HEIGHT,
            depth=depth,
            x=left + (span.start_ns - began) / 1e6 * scale,
            length=max(span.duration_ms * scale, 1.5),
            colour=colours[span.service],
            orphan=parent_missing(span, ids),
        )
    return ElementTree.tostring(root, encoding="unicode")


def _axis(root, *, total_ms: float, scale: float, left: float, bottom: float) -> None:
    axis = _sub(root, "g", class_="time-axis", aria_hidden="true")
    _sub(axis, "text", "ms since the trace began", x=MARGIN, y=16, fill=TEXT_COLOUR)
    step = _tick_step(total_ms)
    tick = 0.0
    while tick <= total_ms + step / 1000:
        x = left + tick * scale
        _sub(
            axis,
            "line",
            x1=f"{x:.1f}",
            y1=26,
            x2=f"{x:.1f}",
            y2=bottom,
            stroke=AXIS_COLOUR,
            stroke_width="0.5",
            stroke_dasharray="2 3",
        )
        _sub(
            axis,
            "text",
            f"{tick:g}",
            x=f"{x:.1f}",
            y=22,
            fill=TEXT_COLOUR,
            text_anchor="middle",
            font_size="10",
        )
        tick += step


def _fitted(label: str, depth: int) -> str:
    """The label cut to its column at this depth; what a span is missing or
    failed ("[parent missing]") is kept at the end, where it is read."""
    room = int((LABEL_WIDTH - depth * INDENT - MARGIN) / CHARACTER_WIDTH)
    if len(label) <= room:
        return label
    name, bracket, notes = label.partition(" [")
    tail = f"{bracket}{notes}" if bracket else ""
    return name[: max(room - len(tail) - 1, 8)] + "…" + tail


def _row(
    root,
    span: Span,
    *,
    y: float,
    depth: int,
    x: float,
    length: float,
    colour: str,
    orphan: bool,
) -> None:
    row = _sub(
        root, "g", class_="span", data_span=span.span_id, data_service=span.service
    )
    notes = []
    if orphan:
        notes.append("parent missing")
    if span.status == "error":
        notes.append("error")
    label = f"{span.service} · {span.name} · {span.duration_ms:.1f} ms"
    if notes:
        label += " [" + ", ".join(notes) + "]"
    _sub(row, "title", label)
    _sub(
        row,
        "text",
        _fitted(label, depth),
        x=MARGIN + depth * INDENT,
        y=f"{y + 15:.1f}",
        fill=TEXT_COLOUR,
        font_weight="bold" if orphan else "normal",
    )
    bar = {
        "x": f"{x:.1f}",
        "y": f"{y + 4:.1f}",
        "width": f"{length:.1f}",
        "height": ROW_HEIGHT - 8,
        "fill": colour,
        "rx": 2,
    }
    if orphan:
        bar |= {
            "stroke": TEXT_COLOUR,
            "stroke_width": 2,
            "stroke_dasharray": "4 2",
            "class": "parent-missing",
        }
    if span.status == "error":
        bar |= {"stroke": "#c0392b", "stroke_width": 2}
    _sub(row, "rect", **bar)

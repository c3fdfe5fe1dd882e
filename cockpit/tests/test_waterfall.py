"""The waterfall drawn from spans: rows, indentation, the time axis, orphans.

The spans here are ``Span`` objects shaped as the span store keeps them;
``test_on_a_platform`` draws a real platform's trace.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

from cockpit.waterfall import (
    BAR_AREA,
    INDENT,
    LABEL_WIDTH,
    MARGIN,
    process_colours,
    render_waterfall,
    span_rows,
)
from stack.span_store import Span

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
MS = 1_000_000
NS = {"svg": "http://www.w3.org/2000/svg"}


def span(span_id, parent, service, name, start_ms, end_ms, **more) -> Span:
    return Span(
        trace_id=TRACE,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        kind="server",
        service=service,
        start_ns=1_700_000_000_000 * MS + int(start_ms * MS),
        end_ns=1_700_000_000_000 * MS + int(end_ms * MS),
        **more,
    )


DELETION = [
    span("a" * 16, None, "gateway", "gateway DELETE customers", 0, 40),
    span("b" * 16, "a" * 16, "customer-web", "POST delete", 1, 38),
    span("c" * 16, "b" * 16, "customer-web", "append CustomerDeleted", 5, 9),
    span("d" * 16, "c" * 16, "customer-relay", "publish", 60, 80),
    span("e" * 16, "d" * 16, "order-consumer", "process CustomerDeleted", 90, 100),
]


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def rows_of(root):
    return root.findall("svg:g[@class='span']", NS)


def test_children_come_under_their_parent_each_one_deeper():
    shuffled = [DELETION[3], DELETION[0], DELETION[4], DELETION[2], DELETION[1]]

    rows = span_rows(shuffled)

    assert [(s.span_id[0], depth) for s, depth in rows] == [
        ("a", 0),
        ("b", 1),
        ("c", 2),
        ("d", 3),
        ("e", 4),
    ]


def test_each_span_is_a_row_labelled_with_process_name_and_duration():
    root = parse(render_waterfall(DELETION))

    rows = rows_of(root)
    assert [row.get("data-span") for row in rows] == [s.span_id for s in DELETION]
    label = rows[3].find("svg:text", NS).text
    assert label == "customer-relay · publish · 20.0 ms"
    # Indented by depth.
    xs = [float(row.find("svg:text", NS).get("x")) for row in rows]
    assert xs == [MARGIN + depth * INDENT for depth in range(5)]


def test_bars_share_one_time_axis_from_the_traces_first_span():
    root = parse(render_waterfall(DELETION))

    bars = [row.find("svg:rect", NS) for row in rows_of(root)]
    scale = BAR_AREA / 100  # the trace lasts 100 ms
    left = MARGIN + LABEL_WIDTH
    relay = bars[3]
    assert float(relay.get("x")) == round(left + 60 * scale, 1)
    assert float(relay.get("width")) == round(20 * scale, 1)
    assert float(bars[0].get("x")) == left
    ticks = [t.text for t in root.findall("svg:g[@class='time-axis']/svg:text", NS)]
    assert ticks[0] == "ms since the trace began"
    assert ticks[1:] == ["0", "20", "40", "60", "80", "100"]


def test_a_span_whose_parent_is_missing_is_marked_in_words_and_outline():
    lost = span("f" * 16, "9" * 16, "order-projector", "process OrderCancelled", 95, 99)

    svg = render_waterfall([*DELETION, lost])

    root = parse(svg)
    row = root.find(f"svg:g[@data-span='{'f' * 16}']", NS)
    assert row.find("svg:text", NS).text.endswith("[parent missing]")
    assert row.find("svg:rect", NS).get("class") == "parent-missing"
    assert svg.count('class="parent-missing"') == 1
    assert "1 spans have no parent in the trace" in root.find("svg:desc", NS).text


def test_processes_get_distinct_colours_and_the_svg_is_accessible():
    root = parse(render_waterfall(DELETION, title="The deletion"))

    assert root.get("role") == "img"
    assert root.find("svg:title", NS).text == "The deletion"
    desc = root.find("svg:desc", NS).text
    assert desc.startswith("5 spans from 4 processes (gateway, customer-web,")
    colours = process_colours(DELETION)
    assert len(set(colours.values())) == 4
    fills = {
        row.get("data-service"): row.find("svg:rect", NS).get("fill")
        for row in rows_of(root)
    }
    assert fills == colours


def test_an_error_span_says_so_and_no_spans_draws_a_note():
    failed = span("a" * 16, None, "customer-web", "POST place", 0, 5, status="error")

    assert "[error]" in render_waterfall([failed])
    long = span("b" * 16, None, "order-projector", "process " + "x" * 80, 0, 5)
    root = parse(render_waterfall([long]))
    text = rows_of(root)[0].find("svg:text", NS).text
    assert text.endswith("…") and len(text) < 70
    assert rows_of(root)[0].find("svg:title", NS).text.endswith("x · 5.0 ms")
    empty = render_waterfall([])
    assert "(no spans)" in empty and re.search(r'role="img"', empty)

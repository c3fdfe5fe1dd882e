"""A diagram as a standalone, accessible SVG whose numbers a page can update.

``render_svg(diagram, numbers)`` writes the SVG with ``xml.etree`` (no image
is copied from anywhere): ``role="img"`` with a ``<title>`` and a ``<desc>``
that say in words what the picture shows, real ``<text>`` for every label,
dark text on light fills (contrast well above WCAG's 4.5:1).

What a page relies on, so that it can refresh the numbers in place without
drawing again:

- each box is ``<g id=... data-box="<box id>" data-kind="<kind>">``;
- each of its numbers is ``<text class="metric" data-metric="<name>">``
  holding a ``<tspan class="metric-value">``: replace that tspan's text;
- a number that is missing or ``None`` reads "n/a".

``id_prefix`` keeps the ids unique when one page shows several diagrams.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping

from cockpit.layout import (
    BOX_BASE_HEIGHT,
    BOX_WIDTH,
    MARGIN,
    METRIC_LINE,
    Geometry,
)
from cockpit.model import METRIC_LABELS, STAGES, Arrow, Box, BoxKind, Diagram

Numbers = Mapping[str, Mapping[str, float | int | None]]

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
NOT_AVAILABLE = "n/a"
TEXT_COLOUR = "#111111"
LINE_COLOUR = "#3a3a3a"
# Light fills under dark text: each kind its own hue, all readable.
FILLS: dict[BoxKind, str] = {
    BoxKind.GATEWAY: "#e8e8e8",
    BoxKind.WEB: "#dbe9ff",
    BoxKind.QUERY: "#e3dcff",
    BoxKind.DATABASE: "#fff1c7",
    BoxKind.TABLE: "#fff8e0",
    BoxKind.RELAY: "#ffe0cc",
    BoxKind.FUNCTIONS: "#ffe0cc",
    BoxKind.TOPIC: "#d9f5e3",
    BoxKind.STREAM: "#d9f5e3",
    BoxKind.QUEUE: "#e0f4f7",
    BoxKind.DLQ: "#ffd9d9",
    BoxKind.CONSUMER: "#ece0ff",
    BoxKind.PROJECTOR: "#ece0ff",
}
KIND_CAPTIONS: dict[BoxKind, str] = {
    BoxKind.GATEWAY: "gateway (HAProxy)",
    BoxKind.WEB: "web server (commands)",
    BoxKind.QUERY: "query server",
    BoxKind.DATABASE: "PostgreSQL database",
    BoxKind.TABLE: "table",
    BoxKind.RELAY: "outbox relay (Celery)",
    BoxKind.FUNCTIONS: "Lambda functions",
    BoxKind.TOPIC: "SNS topic",
    BoxKind.STREAM: "stream",
    BoxKind.QUEUE: "SQS queue",
    BoxKind.DLQ: "dead-letter queue",
    BoxKind.CONSUMER: "consumer",
    BoxKind.PROJECTOR: "projector (read side)",
}


def format_number(value: float | int | None) -> str:
    if value is None:
        return NOT_AVAILABLE
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value))


def render_svg(
    diagram: Diagram, numbers: Numbers | None = None, *, id_prefix: str = ""
) -> str:
    """The diagram as an SVG document (a string), numbers in their slots."""
    numbers = numbers or {}
    geometry = Geometry(diagram)
    title_id, desc_id = f"{id_prefix}title", f"{id_prefix}desc"
    root = ElementTree.Element(
        "svg",
        {
            "xmlns": SVG_NAMESPACE,
            "role": "img",
            "aria-labelledby": f"{title_id} {desc_id}",
            "viewBox": f"0 0 {geometry.width:.0f} {geometry.height:.0f}",
            "width": f"{geometry.width:.0f}",
            "height": f"{geometry.height:.0f}",
            "font-family": "DejaVu Sans, Arial, sans-serif",
            "data-approach": diagram.approach,
            "data-delivery": diagram.delivery,
            "data-store": diagram.store,
        },
    )
    _sub(root, "title", {"id": title_id}, f"Architecture: {diagram.title}")
    _sub(root, "desc", {"id": desc_id}, diagram.description)
    marker_id = f"{id_prefix}arrowhead"
    _arrowhead(root, marker_id)
    _sub(root, "rect", {"width": "100%", "height": "100%", "fill": "#ffffff"})
    for column in geometry.columns:
        _sub(
            root,
            "text",
            {
                "class": "stage",
                "x": f"{geometry.column_x(column) + BOX_WIDTH / 2:.0f}",
                "y": f"{MARGIN + 14}",
                "text-anchor": "middle",
                "font-size": "14",
                "font-weight": "bold",
                "fill": TEXT_COLOUR,
            },
            STAGES[column],
        )
    boxes = {box.id: box for box in diagram.boxes}
    arrows = ElementTree.SubElement(root, "g", {"class": "arrows"})
    labels = ElementTree.SubElement(root, "g", {"class": "arrow-labels"})
    seen: dict[frozenset[str], int] = {}
    for arrow in diagram.arrows:
        pair = frozenset((arrow.source, arrow.target))
        seen[pair] = seen.get(pair, -1) + 1
        _arrow(arrows, labels, arrow, boxes, geometry, marker_id, seen[pair])
    for box in diagram.boxes:
        _box(root, box, geometry, numbers.get(box.id, {}), id_prefix)
    # Labels last: above the boxes a long arrow passes under.
    root.remove(labels)
    root.append(labels)
    return ElementTree.tostring(root, encoding="unicode")


def _sub(
    parent: ElementTree.Element, tag: str, attributes: dict, text: str | None = None
) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def _arrowhead(root: ElementTree.Element, marker_id: str) -> None:
    definitions = _sub(root, "defs", {})
    marker = _sub(
        definitions,
        "marker",
        {
            "id": marker_id,
            "viewBox": "0 0 10 10",
            "refX": "10",
            "refY": "5",
            "markerWidth": "8",
            "markerHeight": "8",
            "orient": "auto-start-reverse",
        },
    )
    _sub(marker, "path", {"d": "M 0 0 L 10 5 L 0 10 z", "fill": LINE_COLOUR})


def _box(
    root: ElementTree.Element,
    box: Box,
    geometry: Geometry,
    values: Mapping[str, float | int | None],
    id_prefix: str,
) -> None:
    x, y = geometry.top_left(box)
    group = _sub(
        root,
        "g",
        {
            "id": f"{id_prefix}{box.id}",
            "class": "box",
            "data-box": box.id,
            "data-kind": box.kind.value,
        },
    )
    _sub(group, "title", {}, f"{box.label}: {box.note}" if box.note else box.label)
    _sub(
        group,
        "rect",
        {
            "x": f"{x:.0f}",
            "y": f"{y:.0f}",
            "width": f"{BOX_WIDTH}",
            "height": f"{geometry.height_of(box):.0f}",
            "rx": "6",
            "fill": FILLS[box.kind],
            "stroke": LINE_COLOUR,
            "stroke-width": "1.5",
            "stroke-dasharray": "5 3" if box.kind is BoxKind.DLQ else "none",
        },
    )
    centre = f"{x + BOX_WIDTH / 2:.0f}"
    text = {"x": centre, "text-anchor": "middle", "fill": TEXT_COLOUR}
    _sub(
        group,
        "text",
        {**text, "class": "label", "y": f"{y + 19:.0f}", "font-size": "14"},
        box.label,
    )
    _sub(
        group,
        "text",
        {**text, "class": "kind", "y": f"{y + 36:.0f}", "font-size": "11"},
        KIND_CAPTIONS[box.kind],
    )
    for line, metric in enumerate(box.metrics):
        slot = _sub(
            group,
            "text",
            {
                **text,
                "class": "metric",
                "data-metric": metric,
                "y": f"{y + BOX_BASE_HEIGHT + 10 + line * METRIC_LINE:.0f}",
                "font-size": "12",
            },
        )
        _sub(slot, "tspan", {"class": "metric-name"}, f"{METRIC_LABELS[metric]}: ")
        _sub(
            slot,
            "tspan",
            {"class": "metric-value", "font-weight": "bold"},
            format_number(values.get(metric)),
        )


def _arrow(
    arrows: ElementTree.Element,
    labels: ElementTree.Element,
    arrow: Arrow,
    boxes: Mapping[str, Box],
    geometry: Geometry,
    marker_id: str,
    repeat: int,
) -> None:
    """The arrow's curve, and its label moved down a line for each earlier
    arrow between the same two boxes."""
    source, target = boxes[arrow.source], boxes[arrow.target]
    group = _sub(
        arrows,
        "g",
        {"class": "arrow", "data-from": arrow.source, "data-to": arrow.target},
    )
    _sub(group, "title", {}, f"{arrow.source} {arrow.label} {arrow.target}")
    _sub(
        group,
        "path",
        {
            "d": geometry.curve(source, target).path(),
            "fill": "none",
            "stroke": LINE_COLOUR,
            "stroke-width": "1.4",
            "marker-end": f"url(#{marker_id})",
        },
    )
    label = geometry.label(source, target, repeat=repeat)
    _sub(
        labels,
        "text",
        {
            "class": "arrow-label",
            "data-from": arrow.source,
            "data-to": arrow.target,
            "x": f"{label.x:.0f}",
            "y": f"{label.y:.0f}",
            "text-anchor": "start" if label.beside else "middle",
            "font-size": "11",
            "fill": TEXT_COLOUR,
            "stroke": "#ffffff",
            "stroke-width": "3",
            "paint-order": "stroke",
        },
        arrow.label,
    )

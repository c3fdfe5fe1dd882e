"""Where a diagram's boxes and arrows go: plain coordinates, no SVG.

The columns in use stand side by side (an approach without a relay has no
empty relay column); each column's boxes are centred on the tallest one.
An arrow is a cubic curve from the acting box's side to the other box's:
between neighbouring columns a gentle S, within a column a vertical line,
and across several columns an arc (forwards above the boxes it passes,
backwards below them), so that it does not run through their middle.
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.model import Box, Diagram

BOX_WIDTH = 200
BOX_BASE_HEIGHT = 46
METRIC_LINE = 17
COLUMN_GAP = 120
ROW_GAP = 34
MARGIN = 24
HEADER = 34
# The label of each further arrow between the same two boxes, a line lower.
LABEL_LINE = 13

Point = tuple[float, float]


@dataclass(frozen=True)
class Curve:
    start: Point
    first_handle: Point
    second_handle: Point
    end: Point

    def at(self, t: float) -> Point:
        """The point at ``t`` (0 to 1) of the curve (Bernstein form)."""
        weights = ((1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t**2 * (1 - t), t**3)
        points = (self.start, self.first_handle, self.second_handle, self.end)
        return (
            sum(w * p[0] for w, p in zip(weights, points, strict=True)),
            sum(w * p[1] for w, p in zip(weights, points, strict=True)),
        )

    def path(self) -> str:
        """The SVG path data of the curve."""
        (x1, y1), (a, b), (c, d), (x2, y2) = (
            self.start,
            self.first_handle,
            self.second_handle,
            self.end,
        )
        return (
            f"M {x1:.0f} {y1:.0f} C {a:.0f} {b:.0f} {c:.0f} {d:.0f} {x2:.0f} {y2:.0f}"
        )


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    # Beside a vertical line (within a column) rather than centred on it.
    beside: bool


class Geometry:
    def __init__(self, diagram: Diagram) -> None:
        self.columns = sorted({box.column for box in diagram.boxes})
        most_metrics = max((len(box.metrics) for box in diagram.boxes), default=0)
        self.pitch = BOX_BASE_HEIGHT + most_metrics * METRIC_LINE + ROW_GAP
        self.rows = {
            column: sum(1 for box in diagram.boxes if box.column == column)
            for column in self.columns
        }
        self.most_rows = max(self.rows.values(), default=1)
        columns = len(self.columns)
        self.width = 2 * MARGIN + columns * BOX_WIDTH + (columns - 1) * COLUMN_GAP
        self.height = 2 * MARGIN + HEADER + self.most_rows * self.pitch - ROW_GAP

    def column_x(self, column: int) -> float:
        return MARGIN + self.columns.index(column) * (BOX_WIDTH + COLUMN_GAP)

    def top_left(self, box: Box) -> Point:
        offset = (self.most_rows - self.rows[box.column]) * self.pitch / 2
        y = MARGIN + HEADER + offset + box.row * self.pitch
        return self.column_x(box.column), y

    @staticmethod
    def height_of(box: Box) -> float:
        return BOX_BASE_HEIGHT + len(box.metrics) * METRIC_LINE

    def curve(self, source: Box, target: Box) -> Curve:
        (sx, sy), (tx, ty) = self.top_left(source), self.top_left(target)
        sh, th = self.height_of(source), self.height_of(target)
        if source.column == target.column:
            downwards = target.row > source.row
            x1 = x2 = sx + BOX_WIDTH * 0.75
            y1 = sy + sh if downwards else sy
            y2 = ty if downwards else ty + th
            handle = (0.0, (y2 - y1) / 3)
        else:
            forwards = target.column > source.column
            x1 = sx + BOX_WIDTH if forwards else sx
            x2 = tx if forwards else tx + BOX_WIDTH
            y1, y2 = sy + sh / 2, ty + th / 2
            reach = max(abs(x2 - x1) * 0.4, 30)
            handle = (reach if forwards else -reach, 0.0)
        first = (x1 + handle[0], y1 + handle[1])
        second = (x2 - handle[0], y2 - handle[1])
        if abs(source.column - target.column) > 1:
            bend = self.pitch / 2 if target.column > source.column else -self.pitch / 2
            first, second = (first[0], first[1] - bend), (second[0], second[1] - bend)
        return Curve((x1, y1), first, second, (x2, y2))

    def label(self, source: Box, target: Box, *, repeat: int = 0) -> Label:
        """Where an arrow's label goes: the middle of a curve between
        neighbours, near the actor on a long one (the act reads beside who
        acts), beside a vertical line."""
        span = abs(source.column - target.column)
        x, y = self.curve(source, target).at(0.5 if span <= 1 else 0.05)
        y += repeat * LABEL_LINE
        if span == 0:
            return Label(x + 6, y + 4, beside=True)
        return Label(x, y - 3, beside=False)

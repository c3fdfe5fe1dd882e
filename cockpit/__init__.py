"""The cockpit's library: the platform drawn from its own tables, with live numbers.

- ``architecture(approach, delivery=..., store=...)``: a ``Diagram`` (boxes in
  pipeline columns, labelled arrows) derived only from the process table,
  the approach table, the messaging topology and the Lambda mappings, so a
  change to any of them changes the drawing;
- ``render_svg(diagram, numbers)``: a standalone, accessible SVG, each box a
  ``<g data-box=...>`` with a ``<text class="metric" data-metric=...>`` slot
  per number, which a page updates in place;
- ``read_numbers(sources)`` (``cockpit.live_numbers``): those numbers, read
  from a running platform (``LiveSources.of_run``), each source bounded by a
  short timeout; one that does not answer gives ``None`` ("n/a"), never an
  exception.

The cockpit is the top floor, beside ``platform_cli``: it imports ``stack``,
``observe`` and ``shared_events``, and nothing imports it.
"""

from cockpit.diagrams import architecture
from cockpit.live_numbers import LiveSources, read_numbers
from cockpit.model import METRIC_LABELS, STAGES, Arrow, Box, BoxKind, Diagram
from cockpit.svg import render_svg

__all__ = [
    "METRIC_LABELS",
    "STAGES",
    "Arrow",
    "Box",
    "BoxKind",
    "Diagram",
    "LiveSources",
    "architecture",
    "read_numbers",
    "render_svg",
]

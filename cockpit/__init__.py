"""The learner's cockpit: one page, served through the gateway, for a workshop.

``manage.py cockpit`` (``platform_cli.cockpit``) starts a platform, its
gateway and the page (``cockpit.web``, a Django project with no database);
``cockpit.controller`` switches approaches and runs lab scenarios on the
running platform, one job at a time. Below it, the pieces the page shows:

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
  exception;
- ``waterfall`` (a trace), ``history`` (an aggregate's events), ``matrix``
  (a comparison), ``charts`` and ``workshop`` (the lab's own, shared with its
  report and ``docs/workshop.md``).

The cockpit sits below ``platform_cli`` (whose ``cockpit`` command starts
it) and above the lab: it imports ``lab``, ``stack``, ``observe`` and
``shared_events``, and only the command line imports it.
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

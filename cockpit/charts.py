"""The cockpit's charts: the lab's Chart.js specs, drawn by the lab's script.

The specs are built in ``lab.charts`` (the lab's standalone report draws the
same ones, and the lab may not import the cockpit); this module only names
them for the cockpit's views and says where the one ``charts.js`` lives, so
the cockpit serves the very file the report inlines.

What a learner should notice: there is one definition of "the lag
distribution" or "failed requests by status"; a page that shows a run shows
it exactly as the report of that run does.
"""

from lab.charts import (
    CHART_JS,
    CHARTS_SCRIPT,
    canvas_html,
    chart_title,
    failed_requests_chart,
    lag_distribution_chart,
    lag_p99_chart,
    requests_over_time_chart,
    run_charts,
)

__all__ = [
    "CHARTS_SCRIPT",
    "CHART_JS",
    "canvas_html",
    "chart_title",
    "charts_script",
    "failed_requests_chart",
    "lag_distribution_chart",
    "lag_p99_chart",
    "requests_over_time_chart",
    "run_charts",
]


def charts_script() -> str:
    """The text of ``charts.js``, for a view that serves it."""
    return CHARTS_SCRIPT.read_text()

"""The lab's HTML report draws its charts, offline, in a real browser.

One scenario (``crash-before-publish`` under ``event_sourcing``: a failed
request, lag samples and the client's answers, so every kind of chart has
data) runs on a real platform; ``lab.reports.write_reports`` writes the
report, and Chromium opens the file from disk, with no server and no network:
Chart.js and ``charts.js`` are inlined. Every ``<canvas data-chart>`` must be
drawn, proved by its pixels, not by the script having run.
"""

from __future__ import annotations

import os

import pytest

from lab import reports, runner
from lab.charts import chart_title, run_charts
from observe.stream_backlog import checkpoint_file
from shared_events.configuration import all_database_names
from stack import postgres
from stack.span_receiver import TELEMETRY_DATABASE

pytestmark = pytest.mark.slow

# Pixels of a drawn canvas that are not transparent: axes, labels, bars.
COUNT_PAINTED = """canvas => {
    const data = canvas.getContext("2d")
        .getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) painted++; }
    return painted;
}"""


@pytest.fixture(scope="module")
def lab_run(server_url, database_prefix):
    """One quick scenario on a real platform, under this session's prefix."""
    prefix = f"{database_prefix}charts_"
    original = (runner.LAB_PREFIX, runner.environment.ensure_database_server)
    runner.LAB_PREFIX = prefix
    runner.environment.ensure_database_server = lambda: server_url
    try:
        yield runner.run_lab(
            scenarios=["crash-before-publish"],
            approaches=["event_sourcing"],
            progress=lambda line: None,
        )
    finally:
        runner.LAB_PREFIX, runner.environment.ensure_database_server = original
        postgres.drop_databases(
            server_url=server_url,
            names=[*all_database_names(prefix), prefix + TELEMETRY_DATABASE],
        )
        for service in ("customer", "order"):
            checkpoint_file(
                os.environ, service=service, prefix=prefix.replace("_", "-")
            ).unlink(missing_ok=True)


def test_the_reports_charts_are_drawn_from_the_file_offline(
    lab_run, page, screenshot, tmp_path, monkeypatch
):
    monkeypatch.setattr(reports, "REPORTS_DIR", tmp_path)
    paths = reports.write_reports(lab_run.results, title="charts", costs=lab_run.costs)
    expected = [chart_title(spec) for spec in run_charts(lab_run.results)]
    # Every kind of chart has data in this run.
    assert any(title.startswith("Failed requests") for title in expected), expected
    assert any(title.startswith("Lag from commit") for title in expected), expected
    assert any(title.startswith("Requests per second") for title in expected)
    requests_seen = []
    page.on("request", lambda request: requests_seen.append(request.url))

    page.goto(paths["html"].as_uri())

    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() == len(expected)
    for index in range(canvases.count()):
        canvas = canvases.nth(index)
        assert canvas.get_attribute("aria-label") == expected[index]
        assert canvas.get_attribute("data-drawn") == "true"
        assert canvas.evaluate(COUNT_PAINTED) > 500, expected[index]
    # Nothing fetched but the file itself: the report works offline.
    assert requests_seen == [paths["html"].as_uri()]
    screenshot(page, "lab-report-charts")

"""The lab's HTML report draws its charts, offline, in a real browser.

One scenario's result from a real lab run (``crash-before-publish`` under
``event_sourcing``: a failed request, lag samples and the client's answers,
so every kind of chart has data); ``lab.reports.write_reports`` writes the
report, and Chromium opens the file from disk, with no server and no network:
Chart.js and ``charts.js`` are inlined. Every ``<canvas data-chart>`` must be
drawn, proved by its pixels, not by the script having run.
"""

from __future__ import annotations

import json

import pytest

from lab import reports, runner
from lab.charts import chart_title, run_charts
from shared_events.configuration import REPO_DIR

REPORT = REPO_DIR / "cockpit" / "tests" / "data" / "compare-report.json"

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
def lab_results() -> list[runner.ScenarioResult]:
    """``crash-before-publish`` under ``event_sourcing`` from a real lab run's
    JSON (``cockpit/tests/data/compare-report.json``: its lag samples and
    answers cut to a few each), read back as the report reads its results."""
    report = json.loads(REPORT.read_text())
    return [
        runner.ScenarioResult.from_dict(row)
        for row in report["results"]
        if (row["scenario"], row["backend"])
        == ("crash-before-publish", "event_sourcing")
    ]


def test_the_reports_charts_are_drawn_from_the_file_offline(
    lab_results, page, screenshot, tmp_path, monkeypatch
):
    monkeypatch.setattr(reports, "REPORTS_DIR", tmp_path)
    paths = reports.write_reports(lab_results, title="charts", costs=[])
    expected = [chart_title(spec) for spec in run_charts(lab_results)]
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

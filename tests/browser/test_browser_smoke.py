"""The cockpit's foundations in a real browser: a service serves the vendored
libraries, and Chromium runs them.

One customer web process (gunicorn, as ``manage.py up`` starts it) on fresh
databases. A blank page that loads ``htmx.min.js`` and Chart.js's UMD bundle
from that service's ``/static/vendor/`` must end up with ``window.htmx`` and
``window.Chart`` at the versions ``front_end/package-lock.json`` pins, and a
chart drawn into a canvas. What a learner should notice: the scripts are
fetched without any credentials (a browser loads a page's scripts before it
holds a token), while the API beside them still refuses an anonymous caller.
"""

from __future__ import annotations

import secrets

import pytest
import requests

from stack.front_end_assets import locked_versions
from stack.platform_run import PlatformRun, platform_environment, reset_databases
from stack.processes import ServiceProcess
from tests.browser.conftest import accessibility_problems

pytestmark = pytest.mark.slow

SCRIPTS = ("htmx.min.js", "chart.umd.min.js")
# What each vendored file says its version is, as the page sees it.
VERSION_IN_PAGE = {"htmx.org": "htmx.version", "chart.js": "Chart.version"}


@pytest.fixture(scope="module")
def customer_web(server_url, database_prefix) -> ServiceProcess:
    """The customer service's web process alone, on migrated databases."""
    env = platform_environment(
        approach="db_per_service", server_url=server_url, prefix=database_prefix
    )
    reset_databases(server_url=server_url, prefix=database_prefix)
    run = PlatformRun(approach="db_per_service", env=env, token=secrets.token_hex(20))
    try:
        run.manage("customer", "prepare_service", "--token", run.token)
        yield run.start_web("customer")
    finally:
        run.stop_all()


def test_the_vendored_scripts_are_served_to_anyone(customer_web):
    versions = locked_versions()
    htmx = requests.get(f"{customer_web.base_url}/static/vendor/htmx.min.js")
    chart = requests.get(f"{customer_web.base_url}/static/vendor/chart.umd.min.js")

    for response in (htmx, chart):
        assert response.status_code == 200, response.text[:300]
        assert response.headers["Content-Type"].startswith("text/javascript")
    assert f'version:"{versions["htmx.org"]}"' in htmx.text
    assert f"Chart.js v{versions['chart.js']}" in chart.text[:200]
    # Beside them, the API still wants credentials, and an unknown static
    # file is a plain 404.
    assert requests.get(f"{customer_web.base_url}/api/customers/").status_code in (
        401,
        403,
    )
    missing = requests.get(f"{customer_web.base_url}/static/vendor/nothing.js")
    assert missing.status_code == 404


def test_chromium_runs_htmx_and_draws_a_chart(customer_web, page, screenshot):
    vendor = f"{customer_web.base_url}/static/vendor"
    answers = {}
    page.on(
        "response", lambda response: answers.__setitem__(response.url, response.status)
    )

    page.set_content(
        "<!doctype html><html><head><title>browser smoke</title>"
        + "".join(f'<script src="{vendor}/{name}"></script>' for name in SCRIPTS)
        + "</head><body><h1>Vendored htmx and Chart.js</h1>"
        '<canvas id="chart" width="600" height="300"></canvas>'
        "</body></html>"
    )

    assert answers == {f"{vendor}/{name}": 200 for name in SCRIPTS}
    loaded = page.evaluate(
        "() => ({htmx: typeof window.htmx, Chart: typeof window.Chart})"
    )
    assert loaded == {"htmx": "object", "Chart": "function"}
    for package, expression in VERSION_IN_PAGE.items():
        assert page.evaluate(expression) == locked_versions()[package]

    painted = page.evaluate(
        """() => {
            const canvas = document.getElementById("chart");
            const chart = new Chart(canvas, {
                type: "bar",
                data: {
                    labels: ["shared_db", "db_per_service", "direct_publish"],
                    datasets: [{label: "orphan orders", data: [0, 7, 3],
                                backgroundColor: "#c0392b"}],
                },
                options: {animation: false, responsive: false},
            });
            const pixels = canvas.getContext("2d")
                .getImageData(0, 0, canvas.width, canvas.height).data;
            let red = 0;
            for (let i = 0; i < pixels.length; i += 4) {
                if (pixels[i] === 0xc0 && pixels[i + 1] === 0x39 && pixels[i + 3] > 0)
                    red += 1;
            }
            return {bars: chart.getDatasetMeta(0).data.length, red: red};
        }"""
    )
    assert painted["bars"] == 3
    assert painted["red"] > 100, painted  # the bars' colour is on the canvas

    assert screenshot(page, "smoke-vendored-chart").stat().st_size > 0


def test_the_accessibility_check_names_what_blocks_a_reader(page):
    # An input nobody can name, and grey on white no one can read.
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<input type="text"><p style="color:#d0d0d0;background:#fff">faint</p>'
        "</main></body></html>"
    )

    problems = accessibility_problems(page)

    assert any(problem.startswith("label (critical)") for problem in problems)
    assert any(problem.startswith("color-contrast (serious)") for problem in problems)

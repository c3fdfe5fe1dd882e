"""A real Chromium for the page tests, driven by Playwright.

``browser`` is one headless Chromium per session (Debian's package, found or
installed by ``stack.chromium``), ``page`` a fresh tab in a fresh context per
test, and ``screenshot`` saves what a page shows under ``reports/browser/``.
What a learner should notice: where Chromium is missing and cannot be
installed (not root, no apt-get), every test here is skipped, and loudly:
the skip reason names what is missing, and a boxed warning closes the run,
so a green run without its browser tests is never mistaken for a full one.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shared_events.configuration import REPO_DIR
from stack.chromium import ChromiumUnavailable, ensure_chromium
from stack.front_end_assets import AXE_SCRIPT

SCREENSHOT_DIR = REPO_DIR / "reports" / "browser"
SKIPPED = pytest.StashKey[list[str]]()


def screenshot(page, name: str) -> Path:
    """Save what ``page`` shows as ``reports/browser/<name>.png``; its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# axe's impacts that fail a page: what keeps someone from using it at all.
BLOCKING_IMPACTS = ("serious", "critical")


def accessibility_problems(page) -> list[str]:
    """axe-core's serious and critical violations on what ``page`` shows now
    (WCAG 2.1 A and AA rules), one line each: the rule, its help, where."""
    page.add_script_tag(path=str(AXE_SCRIPT))
    violations = page.evaluate(
        """async () => (await axe.run(document, {
            runOnly: {
                type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
            },
            resultTypes: ["violations"],
        })).violations"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        for v in violations
        if v["impact"] in BLOCKING_IMPACTS
    ]


@pytest.fixture(name="screenshot")
def screenshot_fixture() -> Callable[..., Path]:
    return screenshot


def _skip_loudly(config: pytest.Config, reason: str) -> None:
    reasons = config.stash.setdefault(SKIPPED, [])
    if reason not in reasons:
        reasons.append(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path(pytestconfig) -> Path:
    """Chromium's path; installed first if it can be, else every test skips."""
    try:
        return ensure_chromium()
    except ChromiumUnavailable as error:
        _skip_loudly(
            pytestconfig, f"browser tests skipped: Chromium is missing: {error}"
        )


@pytest.fixture(scope="session")
def browser(pytestconfig, chromium_path) -> Iterator:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_loudly(
            pytestconfig,
            "browser tests skipped: the Python package playwright is missing; "
            "run `.venv/bin/pip install -e '.[dev]'` (or `make install`)",
        )
    with sync_playwright() as playwright:
        # Playwright drives the system's Chromium: its own browser download
        # is not needed (and its host is not reachable everywhere).
        launched = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A tab of its own: no cookies or storage shared with another test."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        yield context.new_page()
    finally:
        context.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """A box at the end of the run for each reason the browser tests skipped."""
    for reason in config.stash.get(SKIPPED, []):
        width = 78
        lines = textwrap.wrap(reason, width - 4, break_on_hyphens=False)
        terminalreporter.write_line("")
        terminalreporter.write_line("!" * width, red=True, bold=True)
        for line in lines:
            terminalreporter.write_line(f"! {line:<{width - 4}} !", red=True, bold=True)
        terminalreporter.write_line("!" * width, red=True, bold=True)

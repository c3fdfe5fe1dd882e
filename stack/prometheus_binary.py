"""Prometheus's ``promtool``, from Debian's ``prometheus`` package, fetched once.

``ensure_promtool()`` returns a path that runs promtool, the checker of
Prometheus's configuration and alert rules (``promtool check config``,
``check rules``, ``test rules``). The first call downloads the pinned
package and unpacks it under ``.venv/prometheus/<version>/``
(``stack.debian_packages``, as the gateway's HAProxy is fetched); later
calls find it there. The version is the one ``docker-compose.yml`` runs
(``prom/prometheus:v2.42.0``), so what the tests check is what runs; the
package's server (``ensure_prometheus``) lets a test scrape as the
container would. ``PROMTOOL_BINARY`` names a promtool installed some other
way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shared_events.configuration import REPO_DIR
from stack.debian_packages import DebianPrograms

#: Debian 12 (bookworm)'s Prometheus: one Go program per tool, no libraries.
PROMETHEUS_PACKAGE = "prometheus"
PROMETHEUS_DEBIAN_VERSION = "2.42.0+ds-5+deb12u1"
PROMETHEUS_VERSION = PROMETHEUS_DEBIAN_VERSION.split("+", 1)[0]
INSTALL_ROOT = REPO_DIR / ".venv" / "prometheus"
INSTALL_DIR = INSTALL_ROOT / PROMETHEUS_DEBIAN_VERSION
LAUNCHER = INSTALL_DIR / "bin" / "promtool"
LOCK_FILE = INSTALL_ROOT / "fetch.lock"
BINARY_VARIABLE = "PROMTOOL_BINARY"


class PromtoolUnavailable(RuntimeError):
    """promtool could not be found or fetched; the message says what to do."""


def ensure_promtool() -> Path:
    """The path of a runnable promtool, fetched on the first call."""
    if configured := os.environ.get(BINARY_VARIABLE):
        return _checked(Path(configured), how=f"{BINARY_VARIABLE}={configured}")
    if not LAUNCHER.exists():
        _package().ensure()
    return _checked(LAUNCHER, how=f"the package unpacked in {INSTALL_DIR}")


def ensure_prometheus() -> Path:
    """The Prometheus server unpacked beside promtool (a test scrapes with it)."""
    package = _package()
    package.ensure()
    return package.launcher("prometheus")


def _package() -> DebianPrograms:
    INSTALL_ROOT.mkdir(parents=True, exist_ok=True)
    return DebianPrograms(
        what=f"Prometheus {PROMETHEUS_VERSION}'s promtool",
        packages={PROMETHEUS_PACKAGE: PROMETHEUS_DEBIAN_VERSION},
        programs={"promtool": "usr/bin/promtool", "prometheus": "usr/bin/prometheus"},
        install_dir=INSTALL_DIR,
        lock_file=LOCK_FILE,
        instead=f"Install Prometheus {PROMETHEUS_VERSION} or later yourself "
        "(e.g. 'brew install prometheus') and name its promtool: "
        f"export {BINARY_VARIABLE}=/path/to/promtool",
        failure=PromtoolUnavailable,
    )


def _checked(binary: Path, *, how: str) -> Path:
    """``binary`` if it runs and says it is promtool."""
    try:
        answer = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=30
        )
        said = answer.stdout + answer.stderr
    except OSError as error:
        said = str(error)
    if not said.startswith("promtool, version "):
        raise PromtoolUnavailable(f"{how} does not run as promtool: {said[:400]}")
    return binary


if __name__ == "__main__":
    try:
        print(ensure_promtool())
    except PromtoolUnavailable as error:
        print(error, file=sys.stderr)
        sys.exit(1)

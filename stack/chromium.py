"""Chromium for the browser tests: Debian's package, installed once, pinned.

``ensure_chromium()`` returns the path of a Chromium that Playwright drives
through ``executable_path`` (Playwright's own browser download needs a host
that is not always reachable; Debian's mirror is the one the machine already
uses). What a learner should notice:

- unlike HAProxy and promtool (``stack.debian_packages``), Chromium is
  installed system-wide with ``apt-get install``: it links some sixty
  libraries (GTK, fonts, sound) that unpacking beside it would not bring,
  and apt resolves them. That needs root; without it the error says which
  command to run, or how to name a Chromium installed some other way
  (``CHROMIUM_PATH``);
- the version is pinned, as the Python dependencies are. Debian's security
  archive replaces Chromium often and keeps only the newest build, so a pin
  goes stale: when the install says the version is not found, run
  ``apt-get update && apt-cache policy chromium``, copy the ``Candidate:``
  into ``CHROMIUM_DEBIAN_VERSION`` below, and run ``python -m stack.chromium``;
- two first calls at once (``make test`` lanes, a second terminal) take
  turns on a lock file (``stack.file_lock``): one installs, the other finds
  the result; apt's own lock is waited for too, not failed on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from shared_events.configuration import REPO_DIR
from stack.file_lock import exclusive_lock

__all__ = [
    "ChromiumUnavailable",
    "chromium_version",
    "ensure_chromium",
    "install_command",
]

#: Debian 12 (bookworm)'s Chromium, from its security updates. The browser and
#: its data package share one version; apt fetches the libraries they link.
CHROMIUM_DEBIAN_VERSION = "156.0.8078.129-1~deb12u1"
CHROMIUM_PACKAGES = {
    "chromium": CHROMIUM_DEBIAN_VERSION,
    "chromium-common": CHROMIUM_DEBIAN_VERSION,
}
#: Where Debian's package puts the browser.
DEFAULT_PATH = Path("/usr/bin/chromium")
#: Names a Chromium (or Chrome) installed some other way.
PATH_VARIABLE = "CHROMIUM_PATH"
LOCK_FILE = REPO_DIR / ".venv" / "chromium-install.lock"
#: About 290 MB to download and unpack on a slow mirror.
INSTALL_TIMEOUT_SECONDS = 1200
#: How long apt-get waits for another apt or dpkg to finish.
APT_LOCK_TIMEOUT_SECONDS = 300


class ChromiumUnavailable(RuntimeError):
    """Chromium could not be found or installed; the message says what to do."""


def ensure_chromium() -> Path:
    """The path of a runnable Chromium, installed from Debian on the first call."""
    if configured := os.environ.get(PATH_VARIABLE):
        path = Path(configured)
        if not os.access(path, os.X_OK):
            raise ChromiumUnavailable(
                f"{PATH_VARIABLE}={configured} is not an executable file. Point "
                f"it at a Chromium or Chrome binary, or unset it to use Debian's "
                f"package at {DEFAULT_PATH}."
            )
        return path
    if DEFAULT_PATH.exists():
        if LOCK_FILE.exists():
            # dpkg unpacks /usr/bin/chromium before the browser it starts:
            # wait for an install under way (by another command of this
            # checkout) to end.
            with exclusive_lock(LOCK_FILE):
                pass
        return DEFAULT_PATH
    _check_can_install()
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(LOCK_FILE):
        if not DEFAULT_PATH.exists():  # another command may have installed it
            _install()
    return DEFAULT_PATH


def chromium_version(path: Path) -> str:
    """What ``path --version`` says, e.g. ``Chromium 156.0.8078.114 built on ...``."""
    try:
        answer = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ChromiumUnavailable(f"{path} does not run: {error}") from error
    if answer.returncode != 0:
        raise ChromiumUnavailable(
            f"`{path} --version` failed: {(answer.stderr or answer.stdout)[-600:]}"
        )
    return answer.stdout.strip()


def install_command() -> list[str]:
    """``apt-get install`` of exactly the pinned packages, nothing recommended."""
    return [
        "apt-get",
        "install",
        "--yes",
        "--no-install-recommends",
        "-o",
        f"DPkg::Lock::Timeout={APT_LOCK_TIMEOUT_SECONDS}",
        *(f"{name}={version}" for name, version in CHROMIUM_PACKAGES.items()),
    ]


def _check_can_install() -> None:
    by_hand = " ".join(install_command())
    if shutil.which("apt-get") is None:
        raise ChromiumUnavailable(
            f"Chromium is not at {DEFAULT_PATH} and this machine has no apt-get to "
            f"install Debian's package. Install Chromium or Chrome yourself and "
            f"name it: export {PATH_VARIABLE}=/path/to/chromium"
        )
    if os.geteuid() != 0:
        raise ChromiumUnavailable(
            f"Chromium is not at {DEFAULT_PATH}, and installing Debian's package "
            f"needs root. Run `sudo {by_hand}` once (or `sudo .venv/bin/python -m "
            f"stack.chromium`), or name a Chromium installed some other way: "
            f"export {PATH_VARIABLE}=/path/to/chromium"
        )


def _install() -> None:
    command = install_command()
    try:
        installed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    except subprocess.TimeoutExpired:
        installed = None
    if installed is None or installed.returncode != 0:
        said = (
            (installed.stderr or installed.stdout).strip()[-600:]
            if installed
            else f"timed out after {INSTALL_TIMEOUT_SECONDS}s"
        )
        raise ChromiumUnavailable(
            f"could not install Chromium: `{' '.join(command)}` failed ({said}). "
            f"Run `apt-get update` and try again; if the pinned version is gone "
            f"from the archive, set CHROMIUM_DEBIAN_VERSION in stack/chromium.py "
            f"to the Candidate of `apt-cache policy chromium`."
        )
    if not DEFAULT_PATH.exists():
        raise ChromiumUnavailable(
            f"`{' '.join(command)}` succeeded but {DEFAULT_PATH} is not there"
        )


if __name__ == "__main__":
    try:
        browser = ensure_chromium()
        print(browser)
        print(chromium_version(browser))
    except ChromiumUnavailable as error:
        print(error, file=sys.stderr)
        sys.exit(1)

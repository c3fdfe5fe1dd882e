"""The browser libraries of the cockpit pages, vendored from npm by the set-up.

The pages use htmx (fragments swapped into a page) and Chart.js (the charts),
pinned in ``front_end/package.json`` and ``front_end/package-lock.json`` as
the Python dependencies are in ``pyproject.toml``. ``ensure_front_end_assets()``
runs ``npm ci`` into ``.venv/front_end/`` and copies the few files the pages
load into ``service_kit/static/vendor/``, where every service serves them
(WhiteNoise, see ``service_kit/settings/base.py``). What a learner should
notice:

- the lock file is the contract: ``npm ci`` installs exactly what it names,
  with its integrity hashes checked, and ``--ignore-scripts`` runs no
  package's install script;
- the pages load standalone builds (``htmx.min.js``, Chart.js's UMD bundle),
  so there is no bundler and no Node at run time: Node is a build tool here,
  like a compiler;
- the copy happens only when a file is missing or the lock changed: a stamp
  beside the files keeps the lock's hash, so ``make`` and the test suite call
  this every time and it costs nothing once done;
- the vendored folder is build output (ignored by git), with each library's
  licence copied beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from shared_events.configuration import REPO_DIR
from stack.file_lock import exclusive_lock

__all__ = [
    "AXE_SCRIPT",
    "VENDORED_FILES",
    "VENDOR_DIR",
    "FrontEndAssetsUnavailable",
    "ensure_front_end_assets",
    "locked_versions",
]

FRONT_END_DIR = REPO_DIR / "front_end"
PACKAGE_FILES = ("package.json", "package-lock.json")
LOCK_FILE = FRONT_END_DIR / "package-lock.json"
#: Where ``npm ci`` installs: inside the (ignored) virtual environment.
NODE_DIR = REPO_DIR / ".venv" / "front_end"
INSTALL_LOCK = REPO_DIR / ".venv" / "front_end.lock"
#: The accessibility engine the browser tests inject into each page (a
#: development dependency of the lock: never vendored, never served).
AXE_SCRIPT = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"
#: Served at ``/static/vendor/`` by every service (``service_kit`` is an app).
VENDOR_DIR = REPO_DIR / "service_kit" / "static" / "vendor"
STAMP = VENDOR_DIR / ".package-lock.sha256"
NPM_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class VendoredFile:
    """``source`` inside npm package ``package``, copied to ``vendor/<name>``."""

    package: str
    source: str
    name: str


VENDORED_FILES = (
    VendoredFile("htmx.org", "dist/htmx.min.js", "htmx.min.js"),
    VendoredFile("htmx.org", "LICENSE", "htmx.LICENSE.txt"),
    # Chart.js's UMD bundle defines window.Chart with its one dependency
    # (@kurkle/color) inside, so a page needs no module loader.
    VendoredFile("chart.js", "dist/chart.umd.min.js", "chart.umd.min.js"),
    VendoredFile("chart.js", "LICENSE.md", "chart.js.LICENSE.md"),
    VendoredFile("@kurkle/color", "LICENSE", "kurkle-color.LICENSE.txt"),
)


class FrontEndAssetsUnavailable(RuntimeError):
    """npm is missing or failed; the message says what to do."""


def ensure_front_end_assets() -> bool:
    """Vendor the pinned files unless they are there for this lock; True if copied."""
    if _up_to_date():
        return False
    INSTALL_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(INSTALL_LOCK):
        if _up_to_date():  # another command vendored them meanwhile
            return False
        _npm_ci()
        _copy_vendored_files()
    return True


def locked_versions() -> dict[str, str]:
    """Each vendored package's version, as ``package-lock.json`` pins it."""
    packages = json.loads(LOCK_FILE.read_text())["packages"]
    return {
        file.package: packages[f"node_modules/{file.package}"]["version"]
        for file in VENDORED_FILES
    }


def _lock_hash() -> str:
    return hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()


def _up_to_date() -> bool:
    if not STAMP.exists() or STAMP.read_text().strip() != _lock_hash():
        return False
    return all((VENDOR_DIR / file.name).exists() for file in VENDORED_FILES)


def _npm_ci() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise FrontEndAssetsUnavailable(
            "npm is not on PATH: the cockpit's browser libraries (htmx, Chart.js) "
            "are installed with it from front_end/package-lock.json. Install "
            "Node.js 20 or later (which brings npm; e.g. `apt-get install nodejs "
            "npm` or https://nodejs.org), then run `python -m "
            "stack.front_end_assets`."
        )
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    for name in PACKAGE_FILES:
        shutil.copyfile(FRONT_END_DIR / name, NODE_DIR / name)
    command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
    try:
        installed = subprocess.run(
            command,
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        installed = None
    if installed is None or installed.returncode != 0:
        said = (
            (installed.stderr or installed.stdout).strip()[-600:]
            if installed
            else f"timed out after {NPM_TIMEOUT_SECONDS}s"
        )
        raise FrontEndAssetsUnavailable(
            f"`{' '.join(command)}` in {NODE_DIR} failed ({said}). It needs the "
            f"npm registry (or a mirror named in ~/.npmrc) to be reachable."
        )


def _copy_vendored_files() -> None:
    """Each file lands whole (written aside, then renamed); the stamp comes last."""
    VENDOR_DIR.mkdir(parents=True, exist_ok=True)
    for file in VENDORED_FILES:
        source = NODE_DIR / "node_modules" / file.package / file.source
        if not source.exists():
            raise FrontEndAssetsUnavailable(
                f"{source} is missing after `npm ci`: does the version pinned in "
                f"front_end/package-lock.json still ship {file.source}?"
            )
        with tempfile.NamedTemporaryFile(dir=VENDOR_DIR, delete=False) as copy:
            copy.write(source.read_bytes())
        os.chmod(copy.name, 0o644)
        os.replace(copy.name, VENDOR_DIR / file.name)
    STAMP.write_text(_lock_hash() + "\n")


if __name__ == "__main__":
    try:
        copied = ensure_front_end_assets()
    except FrontEndAssetsUnavailable as error:
        print(error, file=sys.stderr)
        sys.exit(1)
    versions = ", ".join(f"{name} {v}" for name, v in locked_versions().items())
    print(f"{'vendored' if copied else 'up to date'}: {versions} in {VENDOR_DIR}")

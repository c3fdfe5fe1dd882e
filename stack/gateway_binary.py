"""The gateway's program: HAProxy 2.6 from Debian, fetched once by the project itself.

``ensure_haproxy()`` returns a path that runs HAProxy. The first call
downloads the pinned Debian packages (``apt-get download``, no root needed),
unpacks them with ``dpkg -x`` under ``.venv/haproxy/<version>/`` (ignored,
like the rest of the virtual environment) and writes a small launcher beside
them; every later call finds it there. What a learner should notice:

- the version is pinned, as the Python dependencies are: the gateway a test
  ran against is the one ``make up`` starts;
- a Debian package is a program plus the shared libraries it links; the ones
  this machine lacks (HAProxy's Lua and OpenTracing libraries, on a slim
  Debian) are fetched beside it, and the launcher points the loader at them
  (``LD_LIBRARY_PATH``) instead of installing anything system-wide;
- where it cannot be fetched (no ``apt-get``, no network, a package list that
  no longer has the pinned version) the error says so and names the command
  to run; ``HAPROXY_BINARY`` names an HAProxy 2.6 installed some other way.

Concurrent first calls (``make up`` in one terminal, the tests in another)
take turns on a lock file (``stack.file_lock``), so one downloads and the
other finds the result.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from shared_events.configuration import REPO_DIR
from stack.file_lock import exclusive_lock
from stack.processes import ProcessStartError

#: Debian 12 (bookworm)'s HAProxy, from its security updates.
HAPROXY_PACKAGE = "haproxy"
HAPROXY_DEBIAN_VERSION = "2.6.12-1+deb12u4"
#: The libraries that package links and a slim Debian 12 does not carry, pinned
#: likewise (the others, OpenSSL, PCRE2, libc..., every Debian 12 has).
LIBRARY_PACKAGES = {
    "liblua5.3-0": "5.3.6-2",
    "libopentracing-c-wrapper0": "1.1.3-3+b1",
    "libopentracing1": "1.6.0-4",
}
INSTALL_ROOT = REPO_DIR / ".venv" / "haproxy"
INSTALL_DIR = INSTALL_ROOT / HAPROXY_DEBIAN_VERSION
LAUNCHER = INSTALL_DIR / "bin" / "haproxy"
LOCK_FILE = INSTALL_ROOT / "fetch.lock"
#: Names an HAProxy 2.6 or later installed some other way (a system package).
BINARY_VARIABLE = "HAPROXY_BINARY"
DOWNLOAD_TIMEOUT_SECONDS = 300


class GatewayUnavailable(ProcessStartError):
    """HAProxy could not be found or fetched; the message says what to run."""


def ensure_haproxy() -> Path:
    """The path of a runnable HAProxy 2.6, fetched on the first call."""
    if configured := os.environ.get(BINARY_VARIABLE):
        return _checked(Path(configured), how=f"{BINARY_VARIABLE}={configured}")
    if LAUNCHER.exists():
        return LAUNCHER
    INSTALL_ROOT.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(LOCK_FILE):
        if not LAUNCHER.exists():  # another command may have fetched it meanwhile
            _fetch()
    return _checked(LAUNCHER, how=f"the packages unpacked in {INSTALL_DIR}")


def download_command(packages: dict[str, str]) -> list[str]:
    """``apt-get download`` of exactly these versions."""
    return ["apt-get", "download", *(f"{name}={v}" for name, v in packages.items())]


def _fetch() -> None:
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise GatewayUnavailable(
            "the gateway needs HAProxy 2.6, fetched with apt-get and dpkg, which "
            "this machine lacks. Install HAProxy 2.6 or later yourself (e.g. "
            "'brew install haproxy') and name it: "
            f"export {BINARY_VARIABLE}=/path/to/haproxy"
        )
    packages = {HAPROXY_PACKAGE: HAPROXY_DEBIAN_VERSION, **_missing_libraries()}
    command = download_command(packages)
    with tempfile.TemporaryDirectory(dir=INSTALL_ROOT) as scratch:
        downloads, staging = Path(scratch) / "packages", Path(scratch) / "install"
        downloads.mkdir()
        staging.mkdir()
        try:
            downloaded = subprocess.run(
                command,
                cwd=downloads,
                capture_output=True,
                text=True,
                timeout=DOWNLOAD_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            downloaded = None
        if downloaded is None or downloaded.returncode != 0:
            said = downloaded.stderr.strip()[-600:] if downloaded else "timed out"
            raise GatewayUnavailable(
                f"could not download HAProxy for the gateway: `{' '.join(command)}` "
                f"failed ({said}). With no network, or a package list without "
                f"these versions, run `apt-get update` (as root) and try again, "
                f"or install HAProxy 2.6 and export {BINARY_VARIABLE}=<its path>."
            )
        for package in sorted(downloads.glob("*.deb")):
            unpack = ["dpkg", "-x", str(package), str(staging / "root")]
            unpacked = subprocess.run(unpack, capture_output=True, text=True)
            if unpacked.returncode != 0:
                raise GatewayUnavailable(
                    f"`{' '.join(unpack)}` failed: {unpacked.stderr.strip()[-600:]}"
                )
        _write_launcher(staging, final=INSTALL_DIR)
        # Moved into place whole: a launcher is never there without its program.
        shutil.rmtree(INSTALL_DIR, ignore_errors=True)
        os.replace(staging, INSTALL_DIR)


def _missing_libraries() -> dict[str, str]:
    """The pinned library packages that dpkg does not list as installed."""
    missing = {}
    for name, version in LIBRARY_PACKAGES.items():
        status = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", name],
            capture_output=True,
            text=True,
        )
        if status.returncode != 0 or not status.stdout.endswith(" installed"):
            missing[name] = version
    return missing


def _write_launcher(staging: Path, *, final: Path) -> None:
    """``bin/haproxy``: runs the unpacked program with its libraries found.

    The paths written are those ``staging`` will have once moved to ``final``.
    """
    unpacked = staging / "root"
    library_dirs = sorted(
        {path.parent.relative_to(unpacked) for path in unpacked.rglob("*.so*")}
    )
    search = shlex.quote(":".join(str(final / "root" / d) for d in library_dirs))
    program = shlex.quote(str(final / "root" / "usr" / "sbin" / "haproxy"))
    launcher = staging / "bin" / "haproxy"
    launcher.parent.mkdir(parents=True, exist_ok=True)
    launcher.write_text(
        "#!/bin/sh\n"
        f"# HAProxy {HAPROXY_DEBIAN_VERSION} from Debian, unpacked by "
        "stack/gateway_binary.py.\n"
        f'LD_LIBRARY_PATH={search}"${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}" '
        f'exec {program} "$@"\n'
    )
    launcher.chmod(0o755)


def _checked(binary: Path, *, how: str) -> Path:
    """``binary`` if it runs and says it is HAProxy 2.6 or later."""
    try:
        answer = subprocess.run(
            [str(binary), "-v"], capture_output=True, text=True, timeout=30
        )
        said = answer.stdout + answer.stderr
    except OSError as error:
        said = str(error)
    version = said.removeprefix("HAProxy version ").split(" ", 1)[0]
    if not said.startswith("HAProxy version ") or _older_than_2_6(version):
        raise GatewayUnavailable(
            f"{how} does not run as HAProxy 2.6 or later: {said.strip()[:400]}"
        )
    return binary


def _older_than_2_6(version: str) -> bool:
    try:
        major, minor = (int(part) for part in version.split(".")[:2])
    except ValueError:
        return True
    return (major, minor) < (2, 6)


if __name__ == "__main__":
    try:
        print(ensure_haproxy())
    except GatewayUnavailable as error:
        print(error, file=sys.stderr)
        sys.exit(1)

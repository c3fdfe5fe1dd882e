"""The gateway's program: HAProxy 2.6 from Debian, fetched once by the project itself.

``ensure_haproxy()`` returns a path that runs HAProxy. The first call
downloads the pinned Debian packages and unpacks them under
``.venv/haproxy/<version>/`` with a launcher beside them
(``stack.debian_packages``, which Prometheus's promtool is fetched with
too); every later call finds it there. What a learner should notice:

- the version is pinned, as the Python dependencies are: the gateway a test
  ran against is the one ``make up`` starts;
- a Debian package is a program plus the shared libraries it links; the ones
  this machine lacks (HAProxy's Lua and OpenTracing libraries, on a slim
  Debian) are fetched beside it, and the launcher points the loader at them
  (``LD_LIBRARY_PATH``) instead of installing anything system-wide;
- where it cannot be fetched (no ``apt-get``, no network, a package list that
  no longer has the pinned version) the error says so and names the command
  to run; ``HAPROXY_BINARY`` names an HAProxy 2.6 installed some other way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shared_events.configuration import REPO_DIR
from stack.debian_packages import DebianPrograms, download_command
from stack.processes import ProcessStartError

__all__ = ["GatewayUnavailable", "download_command", "ensure_haproxy"]

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


class GatewayUnavailable(ProcessStartError):
    """HAProxy could not be found or fetched; the message says what to run."""


def ensure_haproxy() -> Path:
    """The path of a runnable HAProxy 2.6, fetched on the first call."""
    if configured := os.environ.get(BINARY_VARIABLE):
        return _checked(Path(configured), how=f"{BINARY_VARIABLE}={configured}")
    if LAUNCHER.exists():
        return LAUNCHER
    INSTALL_ROOT.mkdir(parents=True, exist_ok=True)
    DebianPrograms(
        what="HAProxy 2.6 for the gateway",
        packages={HAPROXY_PACKAGE: HAPROXY_DEBIAN_VERSION},
        libraries=LIBRARY_PACKAGES,
        programs={LAUNCHER.name: "usr/sbin/haproxy"},
        install_dir=INSTALL_DIR,
        lock_file=LOCK_FILE,
        instead="Install HAProxy 2.6 or later yourself (e.g. 'brew install "
        f"haproxy') and name it: export {BINARY_VARIABLE}=/path/to/haproxy",
        failure=GatewayUnavailable,
    ).ensure()
    return _checked(LAUNCHER, how=f"the packages unpacked in {INSTALL_DIR}")


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

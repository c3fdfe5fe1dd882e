"""Programs from Debian's packages, fetched by the project itself, no root needed.

The gateway's HAProxy (``stack.gateway_binary``) and Prometheus's promtool
(``stack.prometheus_binary``) come this way: ``apt-get download`` of pinned
versions (no root needed), ``dpkg -x`` into a folder under ``.venv/``
(ignored, like the rest of the virtual environment), and a small launcher
per program beside them. What a learner should notice:

- the versions are pinned, as the Python dependencies are: what a test ran
  against is what ``make up`` starts;
- a Debian package is a program plus the shared libraries it links; those a
  machine lacks are fetched beside it (``not_installed``), and the launcher
  points the loader at them (``LD_LIBRARY_PATH``) instead of installing
  anything system-wide;
- where the packages cannot be fetched (no ``apt-get``, no network, a
  package list that no longer has the pinned version) the error says so and
  what to do instead;
- the unpacked folder is moved into place whole, so a launcher is never
  there without its program; concurrent first fetches (``make up`` in one
  terminal, the tests in another) take turns on a lock file
  (``stack.file_lock``), so one downloads and the other finds the result.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stack.file_lock import exclusive_lock

DOWNLOAD_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class DebianPrograms:
    """Pinned packages unpacked in ``install_dir``, with a launcher per program.

    ``libraries`` are pinned packages fetched too, only where dpkg does not
    list them as installed (a slim Debian lacks some a full one has).
    ``programs`` maps each launcher's name (``bin/<name>``) to the program's
    path inside the unpacked packages (``usr/sbin/haproxy``). ``what`` names
    them in messages ("HAProxy 2.6 for the gateway"); ``instead`` says what
    to do where they cannot be fetched; ``failure`` is the error raised then.
    """

    what: str
    packages: Mapping[str, str]
    programs: Mapping[str, str]
    install_dir: Path
    lock_file: Path
    instead: str
    failure: type[Exception] = RuntimeError
    libraries: Mapping[str, str] = field(default_factory=dict)

    def launcher(self, program: str) -> Path:
        return self.install_dir / "bin" / program

    def ensure(self) -> None:
        """Fetch and unpack the packages unless a launcher is there already."""
        first = self.launcher(next(iter(self.programs)))
        if first.exists():
            return
        self.install_dir.parent.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self.lock_file):
            if not first.exists():  # another command may have fetched them
                self._fetch()

    def _fetch(self) -> None:
        if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
            raise self.failure(
                f"{self.what} is fetched with apt-get and dpkg, which this "
                f"machine lacks. {self.instead}"
            )
        packages = {**self.packages, **not_installed(self.libraries)}
        command = download_command(packages)
        with tempfile.TemporaryDirectory(dir=self.install_dir.parent) as scratch:
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
                raise self.failure(
                    f"could not download {self.what}: `{' '.join(command)}` "
                    f"failed ({said}). With no network, or a package list without "
                    f"these versions, run `apt-get update` (as root) and try "
                    f"again. {self.instead}"
                )
            for package in sorted(downloads.glob("*.deb")):
                unpack = ["dpkg", "-x", str(package), str(staging / "root")]
                unpacked = subprocess.run(unpack, capture_output=True, text=True)
                if unpacked.returncode != 0:
                    raise self.failure(
                        f"`{' '.join(unpack)}` failed: {unpacked.stderr.strip()[-600:]}"
                    )
            for name, program in self.programs.items():
                self._write_launcher(
                    staging, name=name, program=program, packages=packages
                )
            # Moved into place whole: a launcher is never there without its
            # program.
            shutil.rmtree(self.install_dir, ignore_errors=True)
            os.replace(staging, self.install_dir)

    def _write_launcher(
        self, staging: Path, *, name: str, program: str, packages: Mapping[str, str]
    ) -> None:
        """``bin/<name>``: runs the unpacked program with its libraries found.

        The paths written are those ``staging`` will have once moved to
        ``install_dir``.
        """
        unpacked, final = staging / "root", self.install_dir / "root"
        library_dirs = sorted(
            {path.parent.relative_to(unpacked) for path in unpacked.rglob("*.so*")}
        )
        loader = ""
        if library_dirs:
            search = shlex.quote(":".join(str(final / d) for d in library_dirs))
            loader = (
                f'LD_LIBRARY_PATH={search}"${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}" '
            )
        fetched = ", ".join(
            f"{package} {version}" for package, version in packages.items()
        )
        launcher = staging / "bin" / name
        launcher.parent.mkdir(parents=True, exist_ok=True)
        launcher.write_text(
            "#!/bin/sh\n"
            f"# {self.what}: {fetched} from Debian,\n"
            "# unpacked by stack/debian_packages.py.\n"
            f'{loader}exec {shlex.quote(str(final / program))} "$@"\n'
        )
        launcher.chmod(0o755)


def download_command(packages: Mapping[str, str]) -> list[str]:
    """``apt-get download`` of exactly these versions."""
    return ["apt-get", "download", *(f"{name}={v}" for name, v in packages.items())]


def not_installed(packages: Mapping[str, str]) -> dict[str, str]:
    """The packages (and pinned versions) that dpkg does not list as installed."""
    missing = {}
    for name, version in packages.items():
        status = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", name],
            capture_output=True,
            text=True,
        )
        if status.returncode != 0 or not status.stdout.endswith(" installed"):
            missing[name] = version
    return missing

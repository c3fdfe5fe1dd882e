"""``manage.py cockpit`` as a test starts it: a subprocess on free ports.

``started_cockpit(...)`` runs the command as a learner would, waits for the
URL line it prints, and on exit sends SIGTERM and waits for the command to
end; ``left_behind(pids)`` says which of its processes still run. The
browser tests and the command's own test share it.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from shared_events.configuration import REPO_DIR
from stack.loopback import free_port

URL_LINE = re.compile(r"^\s+(http://127\.0\.0\.1:\d+)/\?token=(\S+)\s*$")
STOP_SECONDS = 180.0


@dataclass
class CockpitProcess:
    process: subprocess.Popen
    url: str = ""
    token: str = ""
    output: list[str] = field(default_factory=list)

    @property
    def opening_url(self) -> str:
        return f"{self.url}/?token={self.token}"

    def descendants(self) -> set[int]:
        """The pids of every process the command started (and still runs)."""
        try:
            return {p.pid for p in psutil.Process(self.process.pid).children(True)}
        except psutil.NoSuchProcess:
            return set()

    def text(self) -> str:
        return "".join(self.output)


def left_behind(pids: set[int]) -> list[str]:
    """Those of ``pids`` still running (zombies are gone already), described."""
    alive = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{pid} {' '.join(process.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            continue
    return alive


@contextmanager
def started_cockpit(
    *,
    approach: str,
    server_url: str,
    prefix: str,
    results_dir: Path,
    timeout: float = 600.0,
) -> Iterator[CockpitProcess]:
    """``manage.py cockpit --approach APPROACH`` with its databases under
    ``prefix`` and its results in ``results_dir``; yields once it printed its
    URL, SIGTERMs it on exit."""
    env = {
        **os.environ,
        "DATABASE_SERVER_URL": server_url,
        "DATABASE_NAME_PREFIX": prefix,
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "cockpit",
            *("--approach", approach, "--port", str(free_port())),
            *("--results-dir", str(results_dir)),
        ],
        cwd=REPO_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    cockpit = CockpitProcess(process)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            cockpit.output.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        deadline = time.monotonic() + timeout
        while not cockpit.url:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(
                    f"no URL from manage.py cockpit in {timeout:.0f}s:\n"
                    + cockpit.text()
                ) from None
            if line is None:
                raise RuntimeError(f"manage.py cockpit ended:\n{cockpit.text()}")
            if match := URL_LINE.match(line):
                cockpit.url, cockpit.token = match.groups()
        yield cockpit
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

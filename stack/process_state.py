"""Whether a process runs: what the runtime's pid files and status files are worth.

A pid can outlive its process as a zombie (exited, not yet reaped by its
parent), so "``kill(pid, 0)`` succeeds" is not "it runs": the state letter
in ``/proc`` tells them apart.
"""

from __future__ import annotations

import os
from pathlib import Path


def process_state(pid: int) -> str | None:
    """Linux process state letter ("S", "R", "Z" for zombie, ...), None if gone."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        if Path("/proc/self").exists():
            return None
        try:  # no /proc (macOS): existence is all we can learn
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "?"
    return stat_line.rsplit(")", 1)[-1].split()[0]


def running(pid: object) -> bool:
    """``pid`` names a process that has not exited (a zombie has)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    return process_state(pid) not in (None, "Z", "X")

"""A lock file that makes concurrent starts and stops of one local daemon take turns.

Two commands run at the same moment (``manage.py up`` in one terminal, the
tests in another) would otherwise both find no server and both start one.
The lock is an ``flock`` on a file beside the daemon's state: the kernel
releases it when its holder exits, so a crashed command never leaves it held.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (created if missing) meanwhile."""
    with open(lock_path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)

"""Starting a daemon from another Python process, as a second command would.

The embedded PostgreSQL server and the moto daemon are built to outlive the
command that started them. A test sees that by starting one from a Python
process of its own, which prints where the daemon listens and exits.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shared_events.configuration import REPO_DIR

# Each prints what a later command needs to find the daemon it started.
START_POSTGRES_PRINT_PORT = (
    "import sys; from pathlib import Path; from stack.postgres import start_embedded;"
    " print(start_embedded(data_dir=Path(sys.argv[1])).port)"
)
START_MOTO_DAEMON_PRINT_URL = (
    "import sys; from pathlib import Path;"
    " from stack.moto_server import ensure_moto_daemon;"
    " print(ensure_moto_daemon(state_dir=Path(sys.argv[1])))"
)


def python_command(program: str, directory: Path) -> list[str]:
    """``python -c PROGRAM DIRECTORY``, to run from the repository."""
    return [sys.executable, "-c", program, str(directory)]


def run_to_the_end(program: str, directory: Path, *, timeout: float) -> str:
    """Run ``program`` in a process of its own until it exits; what it printed."""
    child = subprocess.run(
        python_command(program, directory),
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return child.stdout.strip()

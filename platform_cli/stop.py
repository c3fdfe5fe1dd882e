"""``manage.py stop`` (``make stop``): stop whatever the platform left running.

The running ``manage.py up`` and its processes (and any it left behind when
it was killed), the local AWS daemon, and the embedded PostgreSQL server.
"""

from __future__ import annotations

import argparse

from stack import environment, postgres
from stack.moto_server import stop_moto_daemon
from stack.platform_up import stop_running_up

NAME = "stop"
HELP = "stop 'manage.py up', the local AWS and the embedded PostgreSQL"


def run(options: argparse.Namespace) -> int:
    stopped = {
        "manage.py up and its processes": stop_running_up(),
        "the local AWS (moto)": stop_moto_daemon(state_dir=environment.MOTO_STATE_DIR),
        "the embedded PostgreSQL": postgres.stop_embedded(
            data_dir=environment.EMBEDDED_DATA_DIR
        ),
    }
    for what, was_running in stopped.items():
        print(f"{what}: {'stopped' if was_running else 'was not running'}")
    return 0

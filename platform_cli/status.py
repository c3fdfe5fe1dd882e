"""``manage.py status``: what ``manage.py up`` runs now, and whether it answers."""

from __future__ import annotations

import argparse
import time

from stack.platform_up import health, read_status

NAME = "status"
HELP = "list the processes 'manage.py up' runs: pid, uptime, restarts, health"


def run(options: argparse.Namespace) -> int:
    status = read_status()
    if status is None:
        print("Nothing runs: start the platform with 'make up' (or 'manage.py up').")
        return 1
    backends = (
        f"EVENT_DELIVERY={status.get('delivery', 'sns')}, "
        f"EVENT_STORE={status.get('store', 'postgres')}"
    )
    print(
        f"manage.py up (pid {status['pid']}), approach {status['approach']} "
        f"({backends})"
    )
    if status.get("aws_endpoint"):
        print(f"local AWS (moto) at {status['aws_endpoint']}")
    print(f"{'process':<18} {'pid':>7} {'uptime':>9} {'restarts':>8}  health")
    now = time.time()
    for process in status["processes"]:
        pid = process["pid"]
        uptime = f"{now - process['started_at']:.0f}s" if pid else "-"
        answer = health(process["url"]) if pid else "down"
        print(
            f"{process['name']:<18} {pid or '-':>7} {uptime:>9} "
            f"{process['restarts']:>8}  {answer}"
        )
    return 0

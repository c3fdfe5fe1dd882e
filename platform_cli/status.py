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
    print(
        f"{'process':<18} {'pid':>7} {'uptime':>9} {'restarts':>8}  {'health':<8}"
        "  metrics (Bearer METRICS_TOKEN)"
    )
    now = time.time()
    for process in status["processes"]:
        pid = process["pid"]
        uptime = f"{now - process['started_at']:.0f}s" if pid else "-"
        answer = health(process["url"]) if pid else "down"
        print(
            f"{process['name']:<18} {pid or '-':>7} {uptime:>9} "
            f"{process['restarts']:>8}  {answer:<8}  {_metrics(process)}"
        )
    return 0


def _metrics(process: dict) -> str:
    """Where the process answers Prometheus: a web server on its own port, a
    worker on its METRICS_PORT; the gateway does not."""
    if process.get("metrics_port"):
        return f"http://127.0.0.1:{process['metrics_port']}/metrics"
    if process["url"] and process["name"] != "gateway":
        return f"{process['url']}/metrics"
    return "-"

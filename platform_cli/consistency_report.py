"""``manage.py consistency_report``: orphan orders across both services' data."""

from __future__ import annotations

import argparse

from observe.consistency import consistency_report, render_report
from stack import environment

NAME = "consistency_report"
HELP = "list orphan orders: open orders whose customer no longer exists"

SWITCHES = {
    "json": "print JSON instead of text",
    "fail_on_orphans": "exit with status 1 when there are orphan orders",
}


def run(options: argparse.Namespace) -> int:
    environment.prepare()
    report = consistency_report()
    print(render_report(report, as_json=options.json))
    return 1 if (options.fail_on_orphans and report.orphan_orders) else 0

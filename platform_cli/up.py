"""``manage.py up``: both services' web servers in the foreground."""

from __future__ import annotations

import argparse

from stack.processes import run_services_foreground

NAME = "up"
HELP = "run both services' web servers in the foreground (Ctrl-C stops)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customer-port", type=int, default=8001, help="default 8001")
    parser.add_argument("--order-port", type=int, default=8002, help="default 8002")


def run(options: argparse.Namespace) -> int:
    return run_services_foreground(
        customer_port=options.customer_port, order_port=options.order_port
    )

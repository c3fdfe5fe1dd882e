"""A worker whose metrics port another process took starts on another port.

The platform chooses each worker's ``METRICS_PORT`` before the worker binds
it; on a busy machine (the test lanes side by side) another process may bind
it in between, and the worker exits with "Address already in use". The run
then chooses again, instead of failing the whole platform's start. Both the
tests' platforms and ``manage.py up`` start their workers so
(``stack.processes.start_metered_worker``); ``manage.py up`` keeps the new
port for the worker's later restarts.
"""

from __future__ import annotations

import socket

import pytest

from stack.loopback import HOST
from stack.platform_run import running_platform
from stack.process_table import Kind, worker_processes

pytestmark = pytest.mark.slow


def test_a_worker_whose_metrics_port_was_taken_starts_on_another(
    server_url, database_prefix
):
    with running_platform(
        approach="event_sourcing",
        server_url=server_url,
        prefix=database_prefix,
        start_event_workers=False,
    ) as run:
        [consumer] = [
            spec
            for spec in worker_processes("event_sourcing")
            if spec.kind is Kind.CONSUMER and spec.service == "order"
        ]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
            taken.bind((HOST, 0))
            taken.listen()
            port = taken.getsockname()[1]
            run.metrics_ports[consumer.name] = port  # as if chosen, then taken

            worker = run.start_worker(consumer)

            assert worker.running()
            assert run.metrics_ports[consumer.name] != port

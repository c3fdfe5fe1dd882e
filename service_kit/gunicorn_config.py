"""gunicorn's hooks for ``manage.py serve``, which passes this module with
``--config python:service_kit.gunicorn_config``.

Under gunicorn each worker is a process of its own, with its own counters:
prometheus-client's multiprocess mode has each write its counts to files in
``PROMETHEUS_MULTIPROC_DIR`` (``manage.py serve`` gives every server a
fresh folder), and the worker answering a scrape adds them all up. When a
worker exits (gunicorn replaces it after a crash or a timeout), its
counters stay counted, but its live-only gauges must go: ``child_exit``,
which gunicorn runs in its master process, says so. When the server itself
stops, ``on_exit`` removes the folder: its counts die with it, as a single
process's would.

Only the names gunicorn knows as settings are read from this module; the
command line's options win over them.
"""

import os
import shutil

from prometheus_client import multiprocess

from shared_events.telemetry.exposition import MULTIPROCESS_VARIABLE


def child_exit(server, worker) -> None:
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if folder := os.environ.get(MULTIPROCESS_VARIABLE):
        shutil.rmtree(folder, ignore_errors=True)

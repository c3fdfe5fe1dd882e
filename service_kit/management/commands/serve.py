"""``manage.py --service <service> serve``: the service under gunicorn.

The one way every runner starts a web server (``manage.py up``, the lab,
the compose file, the ECS task in ``deploy/``), so a learner's laptop and
AWS serve with the same options. The command replaces itself with gunicorn
(``exec``): whoever started it signals gunicorn directly.

Its workers count requests in prometheus-client's multiprocess mode: the
command gives the server a fresh, empty folder for their files
(``PROMETHEUS_MULTIPROC_DIR``, under ``var/prometheus/``), so a restarted
server starts from zero instead of adding up a dead one's counts, and its
gunicorn hooks (``service_kit.gunicorn_config``) tidy up after a worker that
exits and remove the folder when the server stops.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from shared_events.configuration import VAR_DIR
from shared_events.telemetry.exposition import MULTIPROCESS_VARIABLE

# Idle kept-alive connections stay open this long (seconds): longer than a
# pooled client reuses them (a request a second or a minute apart), and longer
# than a gateway in front keeps its own (60 s), so the server never closes a
# connection a client is about to send on; such a reset POST could not be
# retried safely.
KEEP_ALIVE_SECONDS = 75
# Where each server's workers keep their metric files, one folder per server.
METRICS_FILES_DIR = VAR_DIR / "prometheus"
GUNICORN_CONFIG = "python:service_kit.gunicorn_config"


class Command(BaseCommand):
    help = (
        "Serve this service's API under gunicorn, the production WSGI server, "
        "with the options every platform runner uses. Replaces this process."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            default="127.0.0.1:8000",
            help="host:port to listen on (default 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--workers", type=int, default=2, help="worker processes (default 2)"
        )
        parser.add_argument(
            "--threads", type=int, default=4, help="threads per worker (default 4)"
        )

    def handle(self, *args, bind, workers, threads, **options):
        module, _, name = settings.WSGI_APPLICATION.rpartition(".")
        os.environ[MULTIPROCESS_VARIABLE] = str(fresh_metrics_folder(bind))
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            f"{module}:{name}",
            "--config",
            GUNICORN_CONFIG,
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            # The application is imported once, in gunicorn's master, and the
            # workers fork from it: a web server answers sooner and on less
            # CPU (measured: a shared_db platform up in 10-12 s instead of
            # 13-15, 1.3 CPU-s less), and its workers share the imported
            # code's memory. Nothing opens a connection on import; the
            # tracing SDK starts its export thread again in each worker.
            "--preload",
            "--timeout",
            "60",
            "--graceful-timeout",
            "2",
            "--keep-alive",
            str(KEEP_ALIVE_SECONDS),
            "--access-logfile",
            "-",
            # gunicorn's control socket has one default path per user: the
            # platform's four servers would take it from one another.
            "--no-control-socket",
        ]
        sys.stdout.flush()
        os.execv(sys.executable, command)


def fresh_metrics_folder(bind: str) -> Path:
    """An empty folder for this server's metric files, named by what it serves
    and where: ``customer-web-127.0.0.1-8001``."""
    kind = "query" if settings.QUERY_SIDE_ONLY else "web"
    where = re.sub(r"[^A-Za-z0-9.]+", "-", bind).strip("-")
    folder = METRICS_FILES_DIR / f"{settings.SERVICE_NAME}-{kind}-{where}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder

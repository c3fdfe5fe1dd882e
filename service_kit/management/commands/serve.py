"""``manage.py --service <service> serve``: the service under gunicorn.

The one way every runner starts a web server (``manage.py up``, the lab,
the compose file, the ECS task in ``deploy/``), so a learner's laptop and
AWS serve with the same options. The command replaces itself with gunicorn
(``exec``): whoever started it signals gunicorn directly.
"""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

# Idle kept-alive connections stay open this long (seconds): longer than a
# pooled client reuses them (a request a second or a minute apart), and longer
# than a gateway in front keeps its own (60 s), so the server never closes a
# connection a client is about to send on; such a reset POST could not be
# retried safely.
KEEP_ALIVE_SECONDS = 75


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
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            f"{module}:{name}",
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
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

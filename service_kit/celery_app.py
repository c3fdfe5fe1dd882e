"""The Celery app a service runs its outbox relay with.

Start a service's relay worker (with its timer for the periodic sweep) with::

    python manage.py --service customer relay_worker

which runs ``celery -A customer_service worker --beat --pool solo`` with
gossip, mingle and heartbeat off: those three need broadcast messaging,
which SQS lacks. The service package's ``__init__`` imports its app, so
that ``.delay()`` targets this service's broker (SQS), not Celery's default
AMQP broker.

A relay worker serves its metrics (what it relayed, what the broker
refused) on ``METRICS_PORT`` when that is set
(``shared_events.management.worker_metrics``). The pool is ``solo``: the
tasks run in the process that serves them, so the counts are all there.
"""

from __future__ import annotations

import logging
import os

from celery import Celery, signals

# Celery's lines per task and per timer tick. The sweep runs every two seconds,
# so at INFO they would drown what matters; the relay task logs what it
# published itself.
ROUTINE_LOGGERS = ("celery.app.trace", "celery.worker.strategy", "celery.beat")


def service_celery_app(package: str) -> Celery:
    """The Celery app of the service in ``package``, configured from its settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"{package}.config.settings")
    app = Celery(package)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.autodiscover_tasks(["shared_events"])
    return app


@signals.after_setup_logger.connect
def quiet_routine_task_logs(loglevel=logging.INFO, **kwargs) -> None:
    level = logging.getLevelName(loglevel) if isinstance(loglevel, str) else loglevel
    for name in ROUTINE_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


@signals.worker_ready.connect
def serve_relay_metrics(**kwargs) -> None:
    # Imported here: this module is imported by every process of a service
    # (its package's __init__), long before Django is set up.
    from shared_events.management.worker_metrics import serve_worker_metrics

    url = serve_worker_metrics()
    if url:
        logging.getLogger(__name__).info("metrics on %s", url)

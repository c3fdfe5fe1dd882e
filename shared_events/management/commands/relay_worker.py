import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from shared_events.configuration import VAR_DIR


class Command(BaseCommand):
    help = (
        "Run this service's Celery relay worker, with its timer (beat) for the "
        "periodic outbox sweep. Celery's broker is SQS: gossip, mingle and "
        "heartbeat are off because SQS has no broadcast. One process, one task at "
        "a time (--pool solo); run several workers to relay in parallel."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loglevel", default="INFO", help="Celery log level (default INFO)"
        )

    def handle(self, *args, loglevel, **options):
        service = settings.SERVICE_NAME
        schedule_dir = VAR_DIR / "celery"
        schedule_dir.mkdir(parents=True, exist_ok=True)
        prefix = settings.EVENT_TOPOLOGY_PREFIX or "default-"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            f"{service}_service",
            "worker",
            "--beat",
            "--schedule",
            str(schedule_dir / f"{prefix}{service}-beat-{os.getpid()}"),
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--queues",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "--loglevel",
            loglevel,
        ]
        sys.stdout.flush()
        os.execv(sys.executable, command)

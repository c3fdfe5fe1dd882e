import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shared_events import messaging
from shared_events.consumer import EventConsumer


class Command(BaseCommand):
    help = (
        "Consume this service's event inbox (SQS, long polling with boto3): apply "
        "each event once, in per-aggregate order, in one transaction with its "
        "processed-event record; poison messages go to the dead-letter queue. "
        "SIGTERM or Ctrl-C finishes the messages in hand, then exits."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--until-idle",
            action="store_true",
            help="exit after a poll that received nothing (for scripts and tests)",
        )
        parser.add_argument(
            "--wait-seconds",
            type=int,
            default=None,
            help="long-poll wait per receive, 0-20 seconds (default: the setting "
            "EVENT_CONSUMER_WAIT_SECONDS)",
        )

    def handle(self, *args, until_idle, wait_seconds, **options):
        # Installed first, so a SIGTERM during start-up is a clean exit too.
        stop = threading.Event()

        def request_stop(signum, frame):
            self.stdout.write("stopping after the messages in hand...")
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        service = settings.SERVICE_NAME
        consumer_settings = messaging.consumer_settings(service)
        if wait_seconds is not None:
            if not 0 <= wait_seconds <= 20:
                raise CommandError("--wait-seconds must be between 0 and 20")
            from dataclasses import replace

            consumer_settings = replace(
                consumer_settings, wait_time_seconds=wait_seconds
            )
        handlers = messaging.composition_root().wiring().event_handlers
        consumer = EventConsumer(
            settings=consumer_settings,
            sqs=messaging.sqs_client(),
            handlers=handlers,
        )
        self.stdout.write(
            f"consuming {consumer_settings.queue_url} as {consumer_settings.name} "
            f"({len(handlers)} event types handled)"
        )
        self.stdout.flush()
        if stop.is_set():
            return
        stats = consumer.run(stop, idle_exit=until_idle)
        self.stdout.write(self.style.SUCCESS(f"stopped; outcomes: {stats}"))

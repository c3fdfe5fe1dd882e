import signal
import threading
from dataclasses import replace

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shared_events.composition import service_wiring
from shared_events.consume import EventConsumer
from shared_events.management.worker_metrics import serve_worker_metrics
from shared_events.transport import TopologyError, messaging

# Longer would hold a partial batch's successors past any lag worth teaching.
MAX_BATCH_WINDOW_SECONDS = 10


class Command(BaseCommand):
    help = (
        "Consume this service's event inbox (SQS, long polling with boto3): apply "
        "each event once, in per-aggregate order, in one transaction with its "
        "processed-event record; poison messages go to the dead-letter queue. "
        "SIGTERM or Ctrl-C finishes the messages in hand, then exits."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--side",
            choices=["write", "read"],
            default="write",
            help=(
                "write: the service's own inbox, applied to its own database "
                "(default); read: approach 5's read-side inbox, projected into the "
                "read database (the query service's consumer)"
            ),
        )
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
        parser.add_argument(
            "--batch-window",
            type=float,
            default=None,
            metavar="SECONDS",
            help="after a batch that did not fill, wait this long before the next "
            "receive, so a steady trickle comes in fuller batches (0-10 seconds; "
            "default: the setting EVENT_CONSUMER_BATCH_WINDOW_SECONDS)",
        )

    def handle(self, *args, side, until_idle, wait_seconds, batch_window, **options):
        # Installed first, so a SIGTERM during start-up is a clean exit too.
        stop = threading.Event()

        def request_stop(signum, frame):
            self.stdout.write("stopping after the messages in hand...")
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        service = settings.SERVICE_NAME
        wiring = service_wiring()
        if side == "read":
            if not settings.APPROACH_HAS_READ_SIDE:
                raise CommandError(
                    f"approach {settings.ARCHITECTURE_APPROACH} has no read side; "
                    "it is approach 5 (cqrs_es) that keeps read databases"
                )
            consumer_settings = replace(
                _consumer_settings(f"{service}-read"),
                database=settings.READ_DATABASE,
            )
            handlers = wiring.projection_handlers
        else:
            consumer_settings = _consumer_settings(service)
            handlers = wiring.event_handlers
        if wait_seconds is not None:
            if not 0 <= wait_seconds <= 20:
                raise CommandError("--wait-seconds must be between 0 and 20")
            consumer_settings = replace(
                consumer_settings, wait_time_seconds=wait_seconds
            )
        if batch_window is not None:
            if not 0 <= batch_window <= MAX_BATCH_WINDOW_SECONDS:
                raise CommandError(
                    f"--batch-window must be between 0 and {MAX_BATCH_WINDOW_SECONDS}"
                )
            consumer_settings = replace(
                consumer_settings, batch_window_seconds=batch_window
            )
        consumer = EventConsumer(
            settings=consumer_settings,
            sqs=messaging.sqs_client(),
            handlers=handlers,
        )
        metrics_url = serve_worker_metrics(
            dead_letter_queue_urls=[consumer_settings.dead_letter_queue_url]
        )
        if metrics_url:
            self.stdout.write(f"metrics on {metrics_url}")
        self.stdout.write(
            f"consuming {consumer_settings.queue_url} as {consumer_settings.name} "
            f"({len(handlers)} event types handled)"
        )
        self.stdout.flush()
        if stop.is_set():
            return
        stats = consumer.run(stop, idle_exit=until_idle)
        self.stdout.write(self.style.SUCCESS(f"stopped; outcomes: {stats}"))


def _consumer_settings(consumer: str):
    """The inbox ``consumer`` reads; a clear error where it has none (Kinesis)."""
    try:
        return messaging.consumer_settings(consumer)
    except TopologyError as error:
        raise CommandError(str(error)) from None

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from shared_events.composition import service_wiring
from shared_events.outbox import RelayResult, outbox_pending_count, relay_outbox


class Command(BaseCommand):
    help = (
        "Relay this service's outbox to the broker once, without Celery: claim "
        "unpublished rows (FOR UPDATE SKIP LOCKED), publish them in batches, mark "
        "the accepted ones. With --loop it keeps sweeping. The Celery relay worker "
        "(relay_worker) runs the same service function."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", action="store_true", help="keep sweeping until interrupted"
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds between sweeps with --loop (default 1)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="rows per batch (default EVENT_RELAY_BATCH_SIZE)",
        )

    def handle(self, *args, loop, interval, batch_size, **options):
        publisher = service_wiring().event_publisher
        if publisher is None:
            self.stdout.write(
                f"approach {settings.ARCHITECTURE_APPROACH} has no outbox: nothing "
                "to relay"
            )
            return
        batch_size = batch_size or settings.EVENT_RELAY_BATCH_SIZE
        total = RelayResult()
        try:
            while True:
                result = relay_outbox(publisher=publisher, batch_size=batch_size)
                total += result
                if result.claimed:
                    self.stdout.write(
                        f"published {result.published}, failed {result.failed}; "
                        f"{outbox_pending_count()} pending"
                    )
                if not loop:
                    break
                time.sleep(interval)
        except KeyboardInterrupt:
            pass
        self.stdout.write(
            self.style.SUCCESS(
                f"relayed: {total.published} published, {total.failed} failed"
            )
        )

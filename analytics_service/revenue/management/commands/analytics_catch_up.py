import json

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from analytics_service import wiring
from analytics_service.revenue.catch_up import (
    replay_order_history,
    subscribe_inbox,
)
from shared_events.configuration import ConfigurationError
from shared_events.transport import TopologyError

# The line a script reads the replay's figures from (``--json``).
SUMMARY_PREFIX = "replay summary: "


class Command(BaseCommand):
    help = (
        "Join the running platform: (1) create the analytics inbox and subscribe "
        "it to the order events topic FIRST, so nothing published from now on is "
        "missed; (2) replay the order service's event store from its first event, "
        "read-only, through the consumer's idempotent core; (3) with --follow, "
        "consume the inbox live (as consume_events does). An event seen in the "
        "replay and again in the inbox is applied once. Needs an approach whose "
        "order service keeps an event store (event_sourcing, cqrs_es) and SNS "
        "delivery; refuses elsewhere, saying why."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--follow",
            action="store_true",
            help="after the replay, consume the inbox until SIGTERM or Ctrl-C",
        )
        parser.add_argument(
            "--until-idle",
            action="store_true",
            help="with --follow: exit after a poll that received nothing",
        )
        parser.add_argument(
            "--wait-seconds",
            type=int,
            default=None,
            help="with --follow: long-poll wait per receive, 0-20 seconds",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="events read from the event store per query (default 500)",
        )
        parser.add_argument(
            "--progress-every",
            type=int,
            default=1000,
            help="print progress after about this many events (default 1000; 0: never)",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help=f"also print the replay's figures as one JSON line after "
            f"{SUMMARY_PREFIX!r}",
        )

    def handle(self, *args, follow, until_idle, wait_seconds, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more")
        adapters = wiring.current()
        if adapters.no_live_delivery:
            raise CommandError(f"cannot join: {adapters.no_live_delivery}")
        if adapters.no_history:
            raise CommandError(
                f"cannot replay: {adapters.no_history}. Following live only would "
                "count orders placed from now on as if they were all there were, "
                "so the analytics service refuses to start without a history."
            )
        try:
            inbox = subscribe_inbox()
            event_store_url = adapters.order_event_store_url()
        except (TopologyError, ConfigurationError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"1. subscribed {inbox.queue_url} to the order events topic: every "
            "event published from now on reaches it"
        )
        self.stdout.write("2. replaying the order service's event store (read-only)")
        self.stdout.flush()
        result = replay_order_history(
            event_store_url=event_store_url,
            consumer=inbox.name,
            batch_size=batch_size,
            progress_every=options["progress_every"],
            report=self.stdout.write,
        )
        self.stdout.write(self.style.SUCCESS(result.summary()))
        if options["json"]:
            self.stdout.write(SUMMARY_PREFIX + json.dumps(result.as_dict()))
        if not follow:
            self.stdout.write(
                "3. not following: consume_events (or --follow) applies the inbox"
            )
            return
        self.stdout.write("3. following the inbox live")
        self.stdout.flush()
        call_command(
            "consume_events",
            until_idle=until_idle,
            wait_seconds=wait_seconds,
            stdout=self.stdout._out,
            stderr=self.stderr._out,
        )

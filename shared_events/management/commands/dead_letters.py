"""``dead_letters``: look at a service's dead-letter queue, and send letters back.

A message the consumer could not process (an invalid envelope, a handler
bug, a version gap that never closed) ends in the inbox's dead-letter queue,
with the reason in its ``failure_reason`` attribute. Once the cause is fixed
(a handler deployed, a missing event published), ``redrive`` sends the
message back to the inbox and the consumer applies it: its processed-event
record makes a second delivery of an event already applied a no-op, so a
redrive never doubles an effect.

Listing does not consume: each message is received with a short visibility
timeout and made visible again at once.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shared_events.transport import DeadLetter, DeadLetterQueue, messaging


class Command(BaseCommand):
    help = (
        "The service's dead-letter queue: 'list' shows each message (id, event "
        "type, aggregate, failure_reason, and receive_count: how often SQS "
        "handed it out before) without consuming it; "
        "'redrive --id ID ... | --all' sends messages back to the inbox with "
        "their original body and attributes (less failure_reason) and deletes "
        "them from the dead-letter queue."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{list,redrive}"
        )
        listing = actions.add_parser(
            "list",
            help="show the dead letters; they stay in the queue",
            description="Show the dead letters; they stay in the queue.",
        )
        redrive = actions.add_parser(
            "redrive",
            help="send dead letters back to the inbox",
            description="Send dead letters back to the inbox, then delete them "
            "from the dead-letter queue.",
        )
        chosen = redrive.add_mutually_exclusive_group(required=True)
        chosen.add_argument(
            "--id",
            dest="message_ids",
            action="append",
            metavar="MESSAGE_ID",
            help="the SQS message id of a letter to redrive (as 'list' shows "
            "it); repeat for several",
        )
        chosen.add_argument(
            "--all",
            action="store_true",
            help="redrive every letter in the queue",
        )
        for subparser in (listing, redrive):
            subparser.add_argument(
                "--side",
                choices=["write", "read"],
                default="write",
                help="write: the dead letters of the service's own inbox "
                "(default); read: those of approach 5's read-side inbox",
            )
            subparser.add_argument(
                "--limit",
                type=int,
                default=1000,
                help="look at no more than this many letters (default 1000)",
            )

    def handle(self, *args, action, side, limit, **options):
        if limit < 1:
            raise CommandError("--limit must be at least 1")
        queue = self._queue(side)
        if action == "redrive" and queue.inbox_url is None:
            raise CommandError(
                f"EVENT_DELIVERY={settings.EVENT_DELIVERY}: there is no inbox to send "
                "letters back to. A letter here is either a poison event (its body "
                "is the envelope; fix the cause, then publish it again) or AWS's "
                "on-failure record of a batch (shard and sequence range; the "
                "records are still on the stream). Nothing was redriven."
            )
        letters = queue.hold_all(limit=limit)
        if action == "list":
            queue.release(letters)
            self._list(queue, letters)
            if len(letters) == limit:
                self.stdout.write(f"(the first {limit}; --limit shows more)")
            return
        if options["all"]:
            chosen, others = letters, []
        else:
            wanted = set(options["message_ids"])
            chosen = [letter for letter in letters if letter.message_id in wanted]
            others = [letter for letter in letters if letter.message_id not in wanted]
            missing = wanted - {letter.message_id for letter in chosen}
            if missing:
                queue.release(letters)
                raise CommandError(
                    "not in the dead-letter queue (nothing was redriven): "
                    + ", ".join(sorted(missing))
                )
        queue.release(others)
        for letter in chosen:
            queue.redrive(letter)
            event_type, aggregate = letter.describe()
            self.stdout.write(
                f"redriven {letter.message_id}  {event_type}  {aggregate}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(chosen)} message(s) sent back to {queue.inbox_url}"
            )
        )

    def _queue(self, side: str) -> DeadLetterQueue:
        service = settings.SERVICE_NAME
        if side == "read":
            if not settings.APPROACH_HAS_READ_SIDE:
                raise CommandError(
                    f"approach {settings.ARCHITECTURE_APPROACH} has no read side; "
                    "it is approach 5 (cqrs_es) that keeps read databases"
                )
            consumer = f"{service}-read"
        else:
            consumer = service
        # The route, not the consumer's settings: under Kinesis a consumer has
        # a dead-letter queue (its mappings' on-failure queue) but no inbox.
        route = messaging.routes().consumer(consumer)
        if not route.dead_letter_queue_url:
            raise CommandError(f"{consumer}-inbox has no dead-letter queue")
        return DeadLetterQueue(
            sqs=messaging.sqs_client(),
            queue_url=route.dead_letter_queue_url,
            inbox_url=route.queue_url,
        )

    def _list(self, queue: DeadLetterQueue, letters: list[DeadLetter]) -> None:
        self.stdout.write(f"{len(letters)} dead letter(s) in {queue.queue_url}")
        for letter in letters:
            event_type, aggregate = letter.describe()
            self.stdout.write(letter.message_id)
            self.stdout.write(f"    event_type: {event_type}")
            self.stdout.write(f"    aggregate: {aggregate}")
            self.stdout.write(f"    failure_reason: {letter.failure_reason}")
            self.stdout.write(f"    receive_count: {letter.receive_count}")

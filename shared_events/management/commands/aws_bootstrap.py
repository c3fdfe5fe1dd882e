from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shared_events.composition import event_tables
from shared_events.transport import TopologyError, messaging
from shared_events.write_side.dynamodb import EventTableMismatch


class Command(BaseCommand):
    help = (
        "Create, idempotently, the messaging topology on the configured endpoint "
        "(AWS_ENDPOINT_URL: the local moto server, or real AWS when unset): one "
        "SNS topic per producing service, one SQS inbox per consuming service "
        "subscribed with raw message delivery, a dead-letter queue per inbox with "
        "a redrive policy (EVENT_MAX_RECEIVE_COUNT), FIFO variants when EVENT_FIFO "
        "is set, and no topics when EVENT_DELIVERY=sqs. With EVENT_DELIVERY=kinesis: "
        "one Kinesis stream per producing service (EVENT_KINESIS_SHARDS shards) and "
        "each consumer's dead-letter queue, no topics and no inboxes. Under "
        "EVENT_STORE=dynamodb also each event-sourced service's event table "
        "(<prefix><service>-events-store, with its stream). Running it again "
        "changes nothing."
    )

    def handle(self, *args, **options):
        endpoint = settings.AWS_ENDPOINT_URL or "real AWS"
        self.stdout.write(f"endpoint: {endpoint}, region {settings.AWS_REGION}")
        try:
            report = messaging.bootstrap_topology()
        except TopologyError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(report.describe())
        for table in event_tables():
            try:
                changes = table.ensure()
            except EventTableMismatch as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"event table {table.name}: {'; '.join(changes) or 'ok'}")

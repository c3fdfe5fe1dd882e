"""The customer service's outbox under EVENT_STORE=dynamodb, as a Lambda function.

Fed by the DynamoDB stream of the customer service's event table
(``<prefix>customer-events-store``, NEW_IMAGE): each INSERT record is one
commit, and its envelopes are published through the customer service's
publisher (SNS, SQS or Kinesis, as EVENT_DELIVERY says), in order. The first
record not wholly accepted is the one ``batchItemFailures`` entry, and the
retry starts there (``shared_events.outbox.stream_relay``). Locally the
platform's event source mapping runner calls ``handler`` in-process with
the same documents.
"""

import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "customer_service.config.settings")
django.setup()

# Imported once Django is set up: the publisher reads the service's settings.
from shared_events.outbox.stream_relay import publish_committed  # noqa: E402
from shared_events.transport import messaging  # noqa: E402

PRODUCER = "customer"


def handler(event: dict, context: Any) -> dict:
    """Publish each committed record's events; answer the first that failed."""
    return publish_committed(event, publisher=messaging.event_publisher(PRODUCER))

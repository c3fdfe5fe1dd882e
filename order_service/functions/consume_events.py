"""The order service's consumer of customer events, as a Lambda function.

It keeps the customer replica and cancels a deleted customer's orders. One
module serves every event source mapping AWS offers it: the order service's
SQS inbox, the customer service's Kinesis stream, or the DynamoDB stream of
the customer service's event table; the event itself says which
(``eventSource``). Locally the platform's event source mapping runner calls
``handler`` in-process with the same documents.
"""

import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_service.config.settings")
django.setup()

# Imported once Django is set up: the wiring's models need the app registry.
from order_service import wiring  # noqa: E402
from shared_events.consume.lambda_handler import process_batch  # noqa: E402

CONSUMER = "order"


def handler(event: dict, context: Any) -> dict:
    """Apply each record's events; answer which records failed."""
    return process_batch(
        event,
        context,
        consumer=CONSUMER,
        handlers=wiring.current().event_handlers,
    )

"""The customer service's consumer of order events, as a Lambda function.

It reacts to none yet, but records each one, in order, so nothing piles up.
One module serves every event source mapping AWS offers it: the customer
service's SQS inbox, the order service's Kinesis stream, or the DynamoDB
stream of the order service's event table; the event itself says which
(``eventSource``). Locally the platform's event source mapping runner calls
``handler`` in-process with the same documents.
"""

import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "customer_service.config.settings")
django.setup()

# Imported once Django is set up: the wiring's models need the app registry.
from customer_service import wiring  # noqa: E402
from shared_events.consume.lambda_handler import process_batch  # noqa: E402

CONSUMER = "customer"


def handler(event: dict, context: Any) -> dict:
    """Apply each record's events; answer which records failed."""
    return process_batch(
        event,
        context,
        consumer=CONSUMER,
        handlers=wiring.current().event_handlers,
    )

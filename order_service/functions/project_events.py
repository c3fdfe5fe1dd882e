"""The order service's read-side projector, as a Lambda function (approach 5).

It projects both services' events into the read database (the paper's
Aurora PostgreSQL read store), from whichever event source mapping feeds it:
the read-side SQS inbox, a Kinesis stream or an event table's DynamoDB
stream (the paper's figure: DynamoDB, Streams, Lambda, Aurora). Under any
other approach there are no read models, and each invocation fails with
``ReadSideMissing`` saying so.
"""

import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_service.config.settings")
django.setup()

# Imported once Django is set up: the wiring's models need the app registry.
from order_service import wiring  # noqa: E402
from shared_events.consume.lambda_handler import (  # noqa: E402
    process_batch,
    read_side_database,
)

CONSUMER = "order-read"


def handler(event: dict, context: Any) -> dict:
    """Project each record's events; answer which records failed."""
    return process_batch(
        event,
        context,
        consumer=CONSUMER,
        handlers=wiring.current().projection_handlers,
        database=read_side_database(),
    )

"""Creating a service's event table, idempotently.

``<prefix><service>-events-store``: partition key ``aggregate_id`` (S), sort
key ``version`` (N), on-demand capacity (PAY_PER_REQUEST), and a stream of
new images: the stream is the outbox, so a table without one would commit
events that nobody ever publishes. ``ensure_event_table`` looks before it
creates, enables a missing stream, and refuses (``EventTableMismatch``) what
it must not repair on its own: another key schema, or a stream of another
view type. It never deletes anything. Several processes may run it at once.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

STREAM_VIEW_TYPE = "NEW_IMAGE"
KEY_SCHEMA = [
    {"AttributeName": "aggregate_id", "KeyType": "HASH"},
    {"AttributeName": "version", "KeyType": "RANGE"},
]
ATTRIBUTE_DEFINITIONS = [
    {"AttributeName": "aggregate_id", "AttributeType": "S"},
    {"AttributeName": "version", "AttributeType": "N"},
]
STREAM = {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE}
# Real AWS takes seconds to make a new table ACTIVE; moto answers ACTIVE.
_WAIT = {"Delay": 1, "MaxAttempts": 120}


class EventTableMismatch(RuntimeError):
    """The table exists but is not an event table this code can use."""


def ensure_event_table(dynamodb: Any, name: str) -> list[str]:
    """Create or repair the event table ``name``; return what this call changed."""
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
        return _create(dynamodb, name)
    return _check(dynamodb, name, table)


def _create(dynamodb: Any, name: str) -> list[str]:
    try:
        dynamodb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=KEY_SCHEMA,
            AttributeDefinitions=ATTRIBUTE_DEFINITIONS,
            StreamSpecification=STREAM,
        )
    except ClientError as error:
        if _code(error) != "ResourceInUseException":
            raise
        # Another process created it first: check what it made instead.
        return _check(dynamodb, name, dynamodb.describe_table(TableName=name)["Table"])
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=_WAIT)
    return [f"created event table {name} (stream {STREAM_VIEW_TYPE})"]


def _check(dynamodb: Any, name: str, table: dict) -> list[str]:
    if table["KeySchema"] != KEY_SCHEMA:
        raise EventTableMismatch(
            f"table {name} exists with key schema {table['KeySchema']}; an event "
            "table is keyed (aggregate_id HASH, version RANGE)"
        )
    stream = table.get("StreamSpecification") or {}
    if not stream.get("StreamEnabled"):
        if table.get("TableStatus") != "ACTIVE":
            dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=_WAIT)
        dynamodb.update_table(TableName=name, StreamSpecification=STREAM)
        return [f"enabled the stream ({STREAM_VIEW_TYPE}) of event table {name}"]
    if stream.get("StreamViewType") != STREAM_VIEW_TYPE:
        raise EventTableMismatch(
            f"table {name} streams {stream.get('StreamViewType')}, not "
            f"{STREAM_VIEW_TYPE}: the stream relay needs each commit's new image. "
            "Disable its stream by hand; the next start enables the right one."
        )
    return []


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")

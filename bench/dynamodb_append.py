"""Figure 8, the DynamoDB event store: ``EventTable.append`` vs raw conditional
``PutItem`` of the same items to the same table.

- Subject: ``EventTable.append(commit)``, the write side's one conditional
  ``PutItem`` per commit (``attribute_not_exists``, the refused item handed
  back on a conflict), with its error handling around it; one-event commits
  (a registration) built before the clock starts.
- Also measured, no target: ``commit_of`` + ``append``, the envelope encoded
  and validated against the registry as the repository's save does it.
- Baseline: raw boto3 ``put_item`` with the same item and the same
  condition expression.

moto takes a few hundred puts a second from one client, flat with table
size. The three ways take turns commit by commit on one table, so a busy
machine (its load changes within seconds) weighs on each alike.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime

from bench.report import Figure
from shared_events.testing.customer_events import registered
from shared_events.transport import AwsSettings, client
from shared_events.write_side.dynamodb import (
    COMMIT_CONDITION,
    EventTable,
    commit_of,
    to_item,
)
from stack.local_aws import local_client

DYNAMODB_APPEND = Figure("8 DynamoDB append", unit="commits/s")
TABLE = "bench-customer-events-store"


def _envelopes(count: int) -> list:
    return [
        registered(
            uuid.uuid4(), name=f"Bench {n}", email=f"b{n}@bench.example", address="1"
        )
        for n in range(count)
    ]


def _one_run(table: EventTable, raw_client, count: int) -> dict[str, float]:
    """``count`` commits each way, one of each in turn: a machine that slows
    down slows all three alike. Commits/s per way."""
    now = datetime.now(UTC)
    prepared = [commit_of([e], committed_at=now) for e in _envelopes(count)]
    raw_items = [to_item(commit_of([e], committed_at=now)) for e in _envelopes(count)]
    unencoded = _envelopes(count)
    seconds = {"append": 0.0, "raw": 0.0, "encode": 0.0}
    for commit, item, envelope in zip(prepared, raw_items, unencoded, strict=True):
        started = time.perf_counter()
        table.append(commit)
        appended = time.perf_counter()
        raw_client.put_item(
            TableName=TABLE, Item=item, ConditionExpression=COMMIT_CONDITION
        )
        put = time.perf_counter()
        table.append(commit_of([envelope], committed_at=datetime.now(UTC)))
        encoded = time.perf_counter()
        seconds["append"] += appended - started
        seconds["raw"] += put - appended
        seconds["encode"] += encoded - put
    return {way: count / spent for way, spent in seconds.items()}


def run(*, runs: int, commits: int) -> list[dict]:
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    table = EventTable(
        name=TABLE, client=client("dynamodb", AwsSettings(endpoint_url=endpoint))
    )
    table.ensure()
    raw_client = local_client("dynamodb", endpoint)
    _one_run(table, raw_client, 20)  # warm up both clients
    measured = [_one_run(table, raw_client, commits) for _ in range(runs)]
    table.client.delete_table(TableName=TABLE)
    note = (
        f"{commits} one-event commits per run and way, one of each in turn, one "
        "table (stream NEW_IMAGE on)"
    )
    return [
        DYNAMODB_APPEND.row(
            subject=(
                "EventTable.append (conditional PutItem)",
                [m["append"] for m in measured],
            ),
            baseline=("raw boto3 conditional put_item", [m["raw"] for m in measured]),
            target=("ge", 0.9),
            note=note,
        ),
        DYNAMODB_APPEND.row(
            subject=(
                "commit_of (encode + validate) + EventTable.append",
                [m["encode"] for m in measured],
            ),
            baseline=("raw boto3 conditional put_item", [m["raw"] for m in measured]),
            note=note,
        ),
    ]

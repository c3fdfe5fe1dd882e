"""Figure 7, the relay to Kinesis: ``relay_outbox`` + ``KinesisPublisher`` vs raw
boto3 ``PutRecords`` of the same records to the same stream.

- Many aggregates (the common case): 100 pending outbox rows of 100
  customers. The publisher sends one record per aggregate per request, so
  the whole batch is one ``PutRecords``, as raw boto3 sends it (partition key
  = aggregate id, the same bodies). Against raw ``PutRecords`` alone (the
  issue's pairing), and against the relay's whole work done raw (claim the
  rows, ``PutRecords``, mark them); and the publisher alone against raw
  ``PutRecords``, to tell the broker side from the database side.
- One aggregate: 100 pending rows of ONE customer (versions 1..100). The
  publisher never lets a later version travel in the same request as an
  earlier one (a failed record would let it overtake), so it sends 100
  requests of one record. Reported against raw ``PutRecords`` of all 100 in
  one request (what ignoring that rule costs nothing, and risks order) and
  against raw ``PutRecord`` one at a time (the same ordered work done raw).

Each run uses a fresh stream of two shards (untimed): moto's writes slow as
a shard fills. Every kind of work runs once per batch, in turn, so that a
machine slowing down slows all of them alike. Every side checks that all
100 records were accepted.
"""

from __future__ import annotations

import json
import os
import time
import uuid

import psycopg2
from django.db import connection
from psycopg2.extras import execute_values

from bench.outbox_rows import clear_outbox, insert_pending
from bench.relay import RAW_CLAIM, RAW_MARK
from bench.report import Figure
from bench.write_path import _raw_dsn
from observe.tables import OUTBOX_TABLE
from shared_events.events import encode
from shared_events.outbox import relay_outbox
from shared_events.testing.customer_events import registered, renamed
from shared_events.transport import AwsSettings, KinesisPublisher, outgoing_message
from stack.local_aws import local_client

BATCH = 100
SHARDS = 2
RELAY_TO_KINESIS = Figure("7 relay to Kinesis", unit="events/s")


class Stream:
    """A fresh stream per run, the publisher on it and a raw client."""

    def __init__(self, name: str) -> None:
        endpoint = os.environ["AWS_ENDPOINT_URL"]
        self.name = name
        self.kinesis = local_client("kinesis", endpoint)
        self.kinesis.create_stream(StreamName=name, ShardCount=SHARDS)
        self.kinesis.get_waiter("stream_exists").wait(StreamName=name)
        self.publisher = KinesisPublisher(name, AwsSettings(endpoint_url=endpoint))

    def delete(self) -> None:
        self.kinesis.delete_stream(StreamName=self.name)

    def put_records_raw(self, bodies: list[dict]) -> None:
        answer = self.kinesis.put_records(
            StreamName=self.name,
            Records=[
                {
                    "Data": json.dumps(body).encode(),
                    "PartitionKey": body["aggregate_id"],
                }
                for body in bodies
            ],
        )
        if answer["FailedRecordCount"]:
            raise RuntimeError(f"raw PutRecords: {answer['FailedRecordCount']} failed")

    def put_record_raw_one_by_one(self, bodies: list[dict]) -> None:
        for body in bodies:
            self.kinesis.put_record(
                StreamName=self.name,
                Data=json.dumps(body).encode(),
                PartitionKey=body["aggregate_id"],
            )


def insert_pending_one_aggregate(count: int) -> list[dict]:
    """``count`` unpublished outbox rows of one customer, versions 1..count."""
    customer_id = uuid.uuid4()
    envelopes = [registered(customer_id)] + [
        renamed(customer_id, version=version, name=f"Bench {version}")
        for version in range(2, count + 1)
    ]
    bodies = [json.loads(encode(envelope)) for envelope in envelopes]
    values = [
        (
            body["event_id"],
            body["event_type"],
            body["aggregate_type"],
            body["aggregate_id"],
            body["aggregate_version"],
            json.dumps(body),
            0,
            "",
        )
        for body in bodies
    ]
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,
            f"INSERT INTO {OUTBOX_TABLE} (event_id, event_type, aggregate_type,"
            " aggregate_id, aggregate_version, body, attempts, last_error) VALUES %s",
            values,
        )
    return bodies


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _relay(stream: Stream) -> None:
    result = relay_outbox(publisher=stream.publisher, batch_size=BATCH)
    if result.published != BATCH:
        raise RuntimeError(f"relay published {result.published} of {BATCH}")


def _raw_relay(stream: Stream, connection) -> None:
    """The relay's work by hand: claim the rows, PutRecords, mark them, commit."""
    with connection, connection.cursor() as cursor:
        cursor.execute(RAW_CLAIM, (BATCH,))
        rows = cursor.fetchall()
        stream.put_records_raw([json.loads(row[2]) for row in rows])
        cursor.execute(RAW_MARK, ([row[0] for row in rows],))
    if len(rows) != BATCH:
        raise RuntimeError(f"raw relay claimed {len(rows)} of {BATCH}")


def _publish(stream: Stream, bodies: list[dict]) -> None:
    messages = [
        outgoing_message(
            event_id=body["event_id"],
            body=json.dumps(body),
            aggregate_id=body["aggregate_id"],
            event_type=body["event_type"],
            aggregate_type=body["aggregate_type"],
        )
        for body in bodies
    ]
    result = stream.publisher.publish_batch(messages)
    if len(result.accepted) != BATCH:
        raise RuntimeError(f"publisher: {len(result.failed)} failed")


class Rates:
    """Seconds spent per kind of work over one run; events/s at the end."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.batches: dict[str, int] = {}

    def add(self, kind: str, seconds: float) -> None:
        self.seconds[kind] = self.seconds.get(kind, 0.0) + seconds
        self.batches[kind] = self.batches.get(kind, 0) + 1

    def rate(self, kind: str) -> float:
        return self.batches[kind] * BATCH / self.seconds[kind]


def _one_run(stream: Stream, connection, batches: int) -> Rates:
    """Every kind of work once per batch, one after the other: a machine that
    slows down slows all of them alike."""
    rates = Rates()
    for _ in range(batches):
        for kind, rows, work in (
            ("relay", insert_pending, lambda _bodies: _relay(stream)),
            ("raw put", insert_pending, stream.put_records_raw),
            (
                "raw relay",
                insert_pending,
                lambda _bodies: _raw_relay(stream, connection),
            ),
            ("publisher", insert_pending, lambda bodies: _publish(stream, bodies)),
            ("relay one", insert_pending_one_aggregate, lambda _b: _relay(stream)),
            ("raw put one", insert_pending_one_aggregate, stream.put_records_raw),
            (
                "raw put one by one",
                insert_pending_one_aggregate,
                stream.put_record_raw_one_by_one,
            ),
        ):
            clear_outbox()
            bodies = rows(BATCH)  # the same rows and bodies, untimed
            rates.add(kind, _timed(lambda work=work, bodies=bodies: work(bodies)))
    return rates


def run(*, runs: int, batches: int) -> list[dict]:
    connection = psycopg2.connect(_raw_dsn())
    try:
        warm = Stream(f"bench-kinesis-warm-{uuid.uuid4().hex[:8]}")
        _one_run(warm, connection, 1)  # clients, connections, the service model
        warm.delete()
        measured: list[Rates] = []
        for number in range(runs):
            stream = Stream(f"bench-kinesis-{number}-{uuid.uuid4().hex[:8]}")
            measured.append(_one_run(stream, connection, batches))
            stream.delete()
    finally:
        connection.close()
    clear_outbox()

    def runs_of(kind: str) -> list[float]:
        return [rates.rate(kind) for rates in measured]

    note = (
        f"{batches} batches of {BATCH} per run, each kind of work in turn per "
        f"batch, a fresh {SHARDS}-shard stream per run"
    )
    return [
        RELAY_TO_KINESIS.row(
            subject=(
                "relay_outbox + KinesisPublisher, 100 aggregates",
                runs_of("relay"),
            ),
            baseline=("raw boto3 PutRecords of the 100", runs_of("raw put")),
            target=("ge", 0.9),
            note=note + "; the relay also claims and marks its rows in PostgreSQL",
        ),
        RELAY_TO_KINESIS.row(
            subject=(
                "relay_outbox + KinesisPublisher, 100 aggregates",
                runs_of("relay"),
            ),
            baseline=(
                "raw SQL claim + raw PutRecords + raw SQL mark, one transaction",
                runs_of("raw relay"),
            ),
            target=("ge", 0.9),
            note=note + "; the same work done raw",
        ),
        RELAY_TO_KINESIS.row(
            subject=(
                "KinesisPublisher.publish_batch, 100 aggregates",
                runs_of("publisher"),
            ),
            baseline=("raw boto3 PutRecords of the 100", runs_of("raw put")),
            note=note + "; the publisher alone",
        ),
        RELAY_TO_KINESIS.row(
            subject=(
                "relay_outbox + KinesisPublisher, 1 aggregate",
                runs_of("relay one"),
            ),
            baseline=("raw boto3 PutRecords of the 100", runs_of("raw put one")),
            note=note + "; one record per request: a later version never rides "
            "with an earlier one",
        ),
        RELAY_TO_KINESIS.row(
            subject=(
                "relay_outbox + KinesisPublisher, 1 aggregate",
                runs_of("relay one"),
            ),
            baseline=(
                "raw boto3 PutRecord, one at a time",
                runs_of("raw put one by one"),
            ),
            note=note + "; the same ordered work done raw",
        ),
    ]

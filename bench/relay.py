"""Figure 2, the relay: outbox to broker, and the relay's database side alone.

- Broker: ``relay_outbox`` with an ``SnsPublisher`` (a topic with one subscribed
  queue, on the moto server) vs raw boto3 ``PublishBatch`` of the same bodies
  and attributes to the same topic. The queue is purged (untimed) after every
  batch: moto scans the whole queue on every call, so a growing queue would
  measure moto, not the relay.
- Database: ``relay_outbox`` with a ``NullPublisher`` vs raw SQL claim-and-mark
  (``SELECT ... FOR UPDATE SKIP LOCKED LIMIT 100`` + ``UPDATE ... published_at``).
"""

from __future__ import annotations

import json
import os
import time

import boto3
import psycopg2

from bench.outbox_rows import clear_outbox, insert_pending
from bench.report import Figure
from bench.write_path import _raw_dsn
from observe.tables import OUTBOX_TABLE
from shared_events.outbox import relay_outbox
from shared_events.transport import AwsSettings, NullPublisher, SnsPublisher

BATCH = 100
RELAY_TO_BROKER = Figure("2 relay to broker", unit="events/s")
RELAY_DATABASE_SIDE = Figure("2 relay, database side", unit="events/s")


class Broker:
    """One SNS topic fanning out to one SQS queue (raw delivery) on moto."""

    def __init__(self) -> None:
        options = {
            "endpoint_url": os.environ["AWS_ENDPOINT_URL"],
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        self.sns = boto3.client("sns", **options)
        self.sqs = boto3.client("sqs", **options)
        self.topic_arn = self.sns.create_topic(Name="bench-customer-events")["TopicArn"]
        self._queues = 0
        self.subscription_arn = ""
        self.queue_url = ""
        self.drain()
        self.publisher = SnsPublisher(
            self.topic_arn,
            AwsSettings(endpoint_url=os.environ["AWS_ENDPOINT_URL"]),
            False,
        )

    def queued(self) -> int:
        """Messages in the current queue: checks that delivery happened."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def drain(self) -> None:
        """Swap in a fresh, empty subscribed queue (untimed).

        moto, like SQS, allows one PurgeQueue a minute, so the queue is replaced
        rather than purged.
        """
        self._queues += 1
        old_url, old_subscription = self.queue_url, self.subscription_arn
        self.queue_url = self.sqs.create_queue(QueueName=f"bench-inbox-{self._queues}")[
            "QueueUrl"
        ]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.subscription_arn = self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        if old_subscription:
            self.sns.unsubscribe(SubscriptionArn=old_subscription)
            self.sqs.delete_queue(QueueUrl=old_url)

    def publish_raw(self, bodies: list[dict]) -> None:
        for start in range(0, len(bodies), 10):
            chunk = bodies[start : start + 10]
            response = self.sns.publish_batch(
                TopicArn=self.topic_arn,
                PublishBatchRequestEntries=[
                    {
                        "Id": str(index),
                        "Message": json.dumps(body),
                        "MessageAttributes": {
                            "event_type": {
                                "DataType": "String",
                                "StringValue": body["event_type"],
                            },
                            "aggregate_type": {
                                "DataType": "String",
                                "StringValue": body["aggregate_type"],
                            },
                        },
                    }
                    for index, body in enumerate(chunk)
                ],
            )
            if response.get("Failed"):
                raise RuntimeError(f"raw publish failed: {response['Failed'][:1]}")


def _relay_to_broker(broker: Broker, batches: int) -> float:
    elapsed = 0.0
    for _ in range(batches):
        insert_pending(BATCH)
        broker.drain()
        started = time.perf_counter()
        result = relay_outbox(publisher=broker.publisher, batch_size=BATCH)
        elapsed += time.perf_counter() - started
        if result.published != BATCH or broker.queued() != BATCH:
            raise RuntimeError(f"relay published {result.published} of {BATCH}")
    return batches * BATCH / elapsed


def _raw_to_broker(broker: Broker, batches: int) -> float:
    elapsed = 0.0
    for _ in range(batches):
        bodies = insert_pending(BATCH)  # same payloads, same untimed work
        broker.drain()
        started = time.perf_counter()
        broker.publish_raw(bodies)
        elapsed += time.perf_counter() - started
        if broker.queued() != BATCH:
            raise RuntimeError("raw publish: not every message reached the queue")
    clear_outbox()
    return batches * BATCH / elapsed


def _relay_database_side(events: int) -> float:
    clear_outbox()
    insert_pending(events)
    started = time.perf_counter()
    result = relay_outbox(
        publisher=NullPublisher(), batch_size=BATCH, time_budget_seconds=600
    )
    elapsed = time.perf_counter() - started
    if result.published != events:
        raise RuntimeError(f"relay published {result.published} of {events}")
    return events / elapsed


RAW_CLAIM = (
    "SELECT id, event_id, body, aggregate_id, event_type, aggregate_type"
    f" FROM {OUTBOX_TABLE} WHERE published_at IS NULL AND next_attempt_at <= now()"
    " ORDER BY id FOR UPDATE SKIP LOCKED LIMIT %s"
)
RAW_MARK = (
    f"UPDATE {OUTBOX_TABLE} SET published_at = now(), attempts = attempts + 1,"
    " last_error = '' WHERE id = ANY(%s)"
)


def raw_claim_and_mark(connection) -> int:
    with connection, connection.cursor() as cursor:
        cursor.execute(RAW_CLAIM, (BATCH,))
        rows = cursor.fetchall()
        if rows:
            cursor.execute(RAW_MARK, ([row[0] for row in rows],))
    return len(rows)


def _raw_database_side(events: int) -> float:
    clear_outbox()
    insert_pending(events)
    connection = psycopg2.connect(_raw_dsn())
    try:
        started = time.perf_counter()
        done = 0
        while claimed := raw_claim_and_mark(connection):
            done += claimed
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
    if done != events:
        raise RuntimeError(f"raw relay marked {done} of {events}")
    return events / elapsed


def run(*, runs: int, broker_batches: int, database_events: int) -> list[dict]:
    broker = Broker()
    clear_outbox()
    _relay_to_broker(broker, 1)  # warm up clients and connections
    _raw_to_broker(broker, 1)
    relayed, raw = [], []
    for _ in range(runs):
        relayed.append(_relay_to_broker(broker, broker_batches))
        raw.append(_raw_to_broker(broker, broker_batches))
    broker.drain()
    database, raw_database = [], []
    for _ in range(runs):
        database.append(_relay_database_side(database_events))
        raw_database.append(_raw_database_side(database_events))
    clear_outbox()
    return [
        RELAY_TO_BROKER.row(
            subject=("relay_outbox + SnsPublisher", relayed),
            baseline=("raw boto3 PublishBatch", raw),
            target=("ge", 0.9),
            note=f"{broker_batches} batches of {BATCH} per run, queue purged between",
        ),
        RELAY_DATABASE_SIDE.row(
            subject=("relay_outbox + NullPublisher", database),
            baseline=("raw SQL claim-and-mark", raw_database),
            note=f"{database_events} pending rows per run",
        ),
    ]

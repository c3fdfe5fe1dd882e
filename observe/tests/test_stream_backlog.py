"""The quiescence probe's stream backlogs, against a real moto server.

A Kinesis stream and a DynamoDB event table's stream hold records; the
checkpoint files are the runner's own format (``CheckpointStore``). What is
counted is what lies past each mapping's checkpoint, compared as integers,
and a checkpoint of another incarnation of the stream counts as none.
"""

from __future__ import annotations

import uuid

import pytest

from observe.quiescence import Backlog
from observe.stream_backlog import StreamBacklog, WatchedMapping, watched_mappings
from shared_events.event_source_mapping import (
    CheckpointStore,
    EventSourceMapping,
    SourceKind,
    StartingPosition,
)
from stack.local_aws import local_client
from stack.moto_server import start_moto_server

RECORDS = 12  # past 9, so that "10" < "9" as strings would show


@pytest.fixture(scope="module")
def moto():
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()


def stream_mapping(name: str, kind: SourceKind, source: str) -> EventSourceMapping:
    return EventSourceMapping(
        name=name,
        function="order_service.functions.consume_events.handler",
        source_kind=kind,
        source_name=source,
        starting_position=StartingPosition.TRIM_HORIZON,
    )


@pytest.fixture
def streams(moto, tmp_path):
    """One single-shard Kinesis stream of RECORDS records, read by two mappings
    (one per service), and an event table with a stream holding two commits."""
    name = f"sb-{uuid.uuid4().hex[:8]}"
    kinesis = local_client("kinesis", moto.endpoint_url)
    kinesis.create_stream(StreamName=f"{name}-events", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=f"{name}-events")
    for number in range(RECORDS):
        kinesis.put_record(
            StreamName=f"{name}-events",
            Data=b"{}",
            PartitionKey=f"aggregate-{number}",
        )
    dynamodb = local_client("dynamodb", moto.endpoint_url)
    dynamodb.create_table(
        TableName=f"{name}-events-store",
        KeySchema=[
            {"AttributeName": "aggregate_id", "KeyType": "HASH"},
            {"AttributeName": "version", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "aggregate_id", "AttributeType": "S"},
            {"AttributeName": "version", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    for aggregate in ("a-1", "a-2"):
        dynamodb.put_item(
            TableName=f"{name}-events-store",
            Item={"aggregate_id": {"S": aggregate}, "version": {"N": "1"}},
        )
    watched = [
        WatchedMapping(
            stream_mapping("order-consume", SourceKind.KINESIS, f"{name}-events"),
            service="order",
            feeds="order",
        ),
        WatchedMapping(
            stream_mapping(
                "customer-read-project", SourceKind.KINESIS, f"{name}-events"
            ),
            service="customer",
            feeds="customer-read",
        ),
        WatchedMapping(
            stream_mapping(
                "customer-publish", SourceKind.DYNAMODB_STREAM, f"{name}-events-store"
            ),
            service="customer",
            feeds="",
        ),
    ]
    files = {service: tmp_path / f"{service}.json" for service in ("customer", "order")}
    backlog = StreamBacklog(
        watched=watched, endpoint_url=moto.endpoint_url, checkpoint_files=files
    )
    return backlog, files


def identity(backlog: StreamBacklog, kind: SourceKind) -> str:
    (source,) = [s for (k, _), s in backlog.sources.items() if k is kind]
    return source.identity


def shard_of(backlog: StreamBacklog, kind: SourceKind) -> str:
    (source,) = [s for (k, _), s in backlog.sources.items() if k is kind]
    return backlog._shards(kind, source)[0]


def test_without_checkpoints_every_record_is_backlog(streams):
    backlog, _ = streams
    assert backlog.counts() == {
        "order-consume": RECORDS,
        "customer-read-project": RECORDS,
        "customer-publish": 2,
    }


def test_records_past_a_checkpoint_are_counted_as_integers(streams):
    backlog, files = streams
    shard = shard_of(backlog, SourceKind.KINESIS)
    records = backlog.pending()["order-consume"]
    ninth = records[8].sequence_number
    assert [int(r.sequence_number) for r in records] == sorted(
        int(r.sequence_number) for r in records
    )
    CheckpointStore(files["order"]).save(
        mapping="order-consume",
        source=identity(backlog, SourceKind.KINESIS),
        shard=shard,
        sequence_number=ninth,
    )

    counts = backlog.counts()

    # The other mapping on the same stream has no checkpoint: all of it is left.
    assert counts["order-consume"] == RECORDS - 9
    assert counts["customer-read-project"] == RECORDS


def test_a_checkpoint_of_another_incarnation_counts_as_none(streams):
    backlog, files = streams
    shard = shard_of(backlog, SourceKind.KINESIS)
    last = backlog.pending()["order-consume"][-1].sequence_number
    CheckpointStore(files["order"]).save(
        mapping="order-consume",
        source="arn:aws:kinesis:us-east-1:123456789012:stream/gone@1.000",
        shard=shard,
        sequence_number=last,
    )
    assert backlog.counts()["order-consume"] == RECORDS

    CheckpointStore(files["order"]).save(
        mapping="order-consume",
        source=identity(backlog, SourceKind.KINESIS),
        shard=shard,
        sequence_number=last,
    )
    assert backlog.counts()["order-consume"] == 0


def test_an_event_tables_stream_names_the_aggregates_not_yet_published(streams):
    backlog, files = streams
    pending = backlog.pending()["customer-publish"]
    assert [record.aggregate_id for record in pending] == ["a-1", "a-2"]

    CheckpointStore(files["customer"]).save(
        mapping="customer-publish",
        source=identity(backlog, SourceKind.DYNAMODB_STREAM),
        shard=shard_of(backlog, SourceKind.DYNAMODB_STREAM),
        sequence_number=pending[0].sequence_number,
    )
    assert [r.aggregate_id for r in backlog.pending()["customer-publish"]] == ["a-2"]


def test_the_platforms_mappings_say_whom_their_records_are_for():
    watched = watched_mappings(
        approach="cqrs_es",
        delivery="kinesis",
        store="dynamodb",
        prefix="p-",
        read_side=True,
    )
    feeds = {entry.name: entry.feeds for entry in watched}
    assert feeds["order-consume-customer-events"] == "order"
    assert feeds["customer-read-project-order-events"] == "customer-read"
    assert feeds["customer-publish-committed"] == ""
    assert feeds["order-read-project-committed"] == "order-read"
    # The defaults have no stream mappings: the probe reads queues only.
    assert (
        watched_mappings(
            approach="cqrs_es",
            delivery="sns",
            store="postgres",
            prefix="p-",
            read_side=True,
        )
        == []
    )


def test_a_backlog_says_whom_it_waits_for():
    feeds = {"order-consume": "order", "customer-publish": ""}
    waiting = Backlog(
        outboxes={"customer": 0}, streams={"order-consume": 2}, stream_feeds=feeds
    )
    assert (waiting.total, waiting.unpublished, waiting.waiting_for("order")) == (
        2,
        0,
        2,
    )
    assert waiting.carries("order") and not waiting.carries("customer-read")
    assert waiting.describe() == "2 (outboxes 0, inboxes 0, streams 2)"

    unpublished = Backlog(streams={"customer-publish": 1}, stream_feeds=feeds)
    # Not yet published: it may still reach every consumer.
    assert unpublished.unpublished == 1 and unpublished.carries("customer-read")
    assert not Backlog(inboxes={"order": 0}).carries("order")
    assert Backlog(inboxes={"order": 0}).describe() == "0 (outboxes 0, inboxes 0)"

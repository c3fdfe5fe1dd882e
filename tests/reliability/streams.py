"""The faults of the AWS backends that live on the streams themselves.

- ``KinesisTap``: under ``EVENT_DELIVERY=kinesis`` there is no topic to
  subscribe a tap queue to; the tap reads the producers' streams instead
  (from the moment it was made), and ``redeliver`` puts a random share of
  what it saw back on the streams, shuffled, with the same partition key:
  every consumer of the stream gets those events again, after later
  versions of the same aggregate (twice and out of order).
- ``put_poison``: a record no consumer can ever apply, written straight onto
  a producer's stream: either not an envelope at all (the handler
  dead-letters it with the reason) or a valid envelope of a version whose
  predecessor never comes (held on every try until the mapping's retries
  run out; the runner then sends AWS's invocation record to the consumer's
  on-failure queue and moves the shard past it).
(Between rounds the DynamoDB event tables are emptied by the lab's own
``lab.reset.empty_event_tables``, as ``PlatformRun.reset_data`` truncates
the PostgreSQL event stores.)

Everything here talks to the moto server itself, never through the broker
proxy a round cuts.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared_events.testing.customer_events import renamed
from shared_events.testing.signing import signed
from shared_events.transport import platform_topology
from stack.local_aws import local_client
from stack.platform_run import PlatformRun

UNDECODABLE = "undecodable"
HELD_FOREVER = "held-forever"
POISON_KINDS = (UNDECODABLE, HELD_FOREVER)


def _topology(run: PlatformRun):
    return platform_topology(
        prefix=run.env.get("EVENT_TOPOLOGY_PREFIX", ""),
        delivery=run.env.get("EVENT_DELIVERY", "sns"),
        read_side=run.info.read_side,
    )


def uses_kinesis(run: PlatformRun) -> bool:
    return run.env.get("EVENT_DELIVERY") == "kinesis"


class KinesisTap:
    """Sees every record the producers put on their streams; puts some again."""

    def __init__(self, run: PlatformRun, rng: random.Random) -> None:
        self.rng = rng
        self.kinesis = local_client("kinesis", run.moto.endpoint_url)
        topology = _topology(run)
        self.iterators: dict[tuple[str, str], str] = {}
        for producer in topology.producers:
            stream = topology.stream_name(producer)
            for shard in self.kinesis.list_shards(StreamName=stream)["Shards"]:
                self.iterators[(stream, shard["ShardId"])] = (
                    self.kinesis.get_shard_iterator(
                        StreamName=stream,
                        ShardId=shard["ShardId"],
                        ShardIteratorType="LATEST",
                    )["ShardIterator"]
                )
        self.seen: list[dict[str, Any]] = []
        # The tap's own copies, by (shard, sequence number): not the producers'.
        self.own: set[tuple[str, str]] = set()
        self.redelivered = 0

    def drain(self) -> int:
        """Take what reached the streams so far into ``seen``; how many records."""
        taken = 0
        for (stream, shard), iterator in list(self.iterators.items()):
            while iterator:
                try:
                    page = self.kinesis.get_records(ShardIterator=iterator)
                except (BotoCoreError, ClientError):
                    break
                iterator = page.get("NextShardIterator")
                self.iterators[(stream, shard)] = iterator
                for record in page["Records"]:
                    if (shard, record["SequenceNumber"]) in self.own:
                        continue
                    try:
                        event_id = json.loads(record["Data"])["event_id"]
                    except (ValueError, KeyError, TypeError):
                        continue  # a poison record: not the producers' either
                    self.seen.append(
                        {
                            "stream": stream,
                            "shard": shard,
                            "sequence_number": record["SequenceNumber"],
                            "data": record["Data"],
                            "key": record["PartitionKey"],
                            "event_id": event_id,
                        }
                    )
                    taken += 1
                if not page["Records"]:
                    break
        return taken

    def redeliver(self, share: float) -> int:
        """Put a random share of the records seen back on their streams, in
        shuffled order; how many."""
        self.drain()
        if not self.seen:
            return 0
        chosen = self.rng.sample(self.seen, max(1, int(len(self.seen) * share)))
        self.rng.shuffle(chosen)
        sent = 0
        for record in chosen:
            answer = self.kinesis.put_record(
                StreamName=record["stream"],
                Data=record["data"],
                PartitionKey=record["key"],
            )
            self.own.add((answer["ShardId"], answer["SequenceNumber"]))
            sent += 1
        self.redelivered += sent
        return sent

    def published_twice(self) -> int:
        """Copies the producers themselves put on the streams beyond the first."""
        counts = Counter(record["event_id"] for record in self.seen)
        return sum(count - 1 for count in counts.values())

    def close(self) -> None:
        """Nothing to take down: a stream has no subscription to remove."""


@dataclass(frozen=True)
class PoisonRecord:
    kind: str
    stream: str
    shard_id: str
    sequence_number: str
    body: bytes
    # The consumers whose mappings read that stream (their DLQs get it).
    readers: tuple[str, ...]


def poison_body(kind: str) -> bytes:
    if kind == UNDECODABLE:
        return b"\xffnot an envelope {"
    # Version 2 of a customer nobody registered: valid, signed by the customer
    # service's own key (a forgery would be dead-lettered at once), and never
    # applicable.
    return signed(renamed(uuid.uuid4(), version=2)).encode()


def put_poison(
    run: PlatformRun, *, kind: str, producer: str, partition_key: str | None = None
) -> PoisonRecord:
    """Write one poison record onto ``producer``'s stream, beside its events.

    ``partition_key`` picks its shard: a real aggregate's id puts the poison
    in front of that aggregate's next events.
    """
    topology = _topology(run)
    stream = topology.stream_name(producer)
    body = poison_body(kind)
    answer = local_client("kinesis", run.moto.endpoint_url).put_record(
        StreamName=stream, Data=body, PartitionKey=partition_key or str(uuid.uuid4())
    )
    return PoisonRecord(
        kind=kind,
        stream=stream,
        shard_id=answer["ShardId"],
        sequence_number=answer["SequenceNumber"],
        body=body,
        readers=tuple(topology.subscribers_of(producer)),
    )


def dead_letter_queue_url(run: PlatformRun, consumer: str) -> str:
    sqs = local_client("sqs", run.moto.endpoint_url)
    name = _topology(run).dead_letter_queue_name(consumer)
    return sqs.get_queue_url(QueueName=name)["QueueUrl"]


def dead_letters(run: PlatformRun, consumer: str) -> list[dict[str, Any]]:
    """Every message in ``consumer``'s dead-letter queue, received and deleted."""
    sqs = local_client("sqs", run.moto.endpoint_url)
    url = dead_letter_queue_url(run, consumer)
    taken: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return taken
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        taken += messages

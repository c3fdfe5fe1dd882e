"""A tap on the platform's events: sees every event published, sends some again.

``EventTap`` (SNS fan-out, the default delivery): a queue of its own is
subscribed to every producer's topic (raw delivery), so it receives a copy
of every message the relays publish. What it took can be sent again to every
inbox that subscribes to the message's producer: the duplicate and
out-of-order deliveries that the lab's duplicate-delivery scenario and the
reliability suite inject.

``StreamTap`` (``EVENT_DELIVERY=kinesis``): a stream needs no copy, since
reading it takes nothing away. The tap reads every producer's stream from
the moment it opened; sending a record again puts it on its stream once
more, with its partition key, where every function reading that stream
meets it a second time, as after a producer's retry.

``open_tap`` picks the one that fits the platform's delivery.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable

from botocore.exceptions import BotoCoreError, ClientError

from shared_events.transport import platform_topology
from stack.local_aws import local_client
from stack.platform_run import PlatformRun

# How often a stream tap asked to wait reads the streams again.
STREAM_POLL_SECONDS = 0.2


class TapUnavailable(RuntimeError):
    """This delivery has nothing a tap can see (``EVENT_DELIVERY=sqs``: no topic)."""


class EventTap:
    def __init__(self, run: PlatformRun, *, name: str) -> None:
        self.sqs = local_client("sqs", run.moto.endpoint_url)
        self.sns = local_client("sns", run.moto.endpoint_url)
        prefix = run.env.get("EVENT_TOPOLOGY_PREFIX", "")
        self.topology = platform_topology(prefix=prefix, read_side=run.info.read_side)
        self.queue_url = self.sqs.create_queue(QueueName=f"{prefix}{name}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        topics = {
            t["TopicArn"].rsplit(":", 1)[-1]: t["TopicArn"]
            for t in self.sns.list_topics()["Topics"]
        }
        self.subscriptions = [
            self.sns.subscribe(
                TopicArn=topics[self.topology.topic_name(producer)],
                Protocol="sqs",
                Endpoint=arn,
                Attributes={"RawMessageDelivery": "true"},
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
            for producer in self.topology.producers
        ]
        self.inbox_urls = {
            consumer: self.sqs.get_queue_url(
                QueueName=self.topology.queue_name(consumer)
            )["QueueUrl"]
            for consumer in self.topology.consumers
        }
        self.seen: list[dict] = []

    def drain(self, *, wait_seconds: int = 0) -> int:
        """Take what reached the tap so far into ``seen``; how many messages.

        A broker that refuses ends the drain early; the rest waits for the next.
        """
        taken = 0
        while True:
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=wait_seconds,
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                for message in messages:
                    self.sqs.delete_message(
                        QueueUrl=self.queue_url,
                        ReceiptHandle=message["ReceiptHandle"],
                    )
                    self.seen.append(message)
                    taken += 1
            except (BotoCoreError, ClientError):
                return taken
            if not messages:
                return taken

    def send_again(self, messages: Iterable[dict]) -> int:
        """Deliver ``messages`` again, in the order given, to every inbox that
        subscribes to each one's producer; how many copies were sent."""
        sent = 0
        for message in messages:
            producer = json.loads(message["Body"])["producer"]
            for consumer in self.topology.subscribers_of(producer):
                self.sqs.send_message(
                    QueueUrl=self.inbox_urls[consumer],
                    MessageBody=message["Body"],
                    MessageAttributes=message.get("MessageAttributes", {}),
                )
                sent += 1
        return sent

    def close(self) -> None:
        for arn in self.subscriptions:
            with contextlib.suppress(BotoCoreError, ClientError):
                self.sns.unsubscribe(SubscriptionArn=arn)
        with contextlib.suppress(BotoCoreError, ClientError):
            self.sqs.delete_queue(QueueUrl=self.queue_url)


class StreamTap:
    """The tap of ``EVENT_DELIVERY=kinesis``: reads the producers' streams.

    ``seen`` holds what ``EventTap`` holds, one dict per event with its
    ``Body`` (the envelope), plus the record's ``PartitionKey`` and stream.
    """

    def __init__(self, run: PlatformRun) -> None:
        self.kinesis = local_client("kinesis", run.moto.endpoint_url)
        prefix = run.env.get("EVENT_TOPOLOGY_PREFIX", "")
        self.topology = platform_topology(
            prefix=prefix, delivery="kinesis", read_side=run.info.read_side
        )
        # One iterator per shard, at LATEST: what is put from now on.
        self.iterators: dict[tuple[str, str], str] = {}
        for producer in self.topology.producers:
            stream = self.topology.stream_name(producer)
            for shard in self.kinesis.list_shards(StreamName=stream)["Shards"]:
                self.iterators[(stream, shard["ShardId"])] = (
                    self.kinesis.get_shard_iterator(
                        StreamName=stream,
                        ShardId=shard["ShardId"],
                        ShardIteratorType="LATEST",
                    )["ShardIterator"]
                )
        self.seen: list[dict] = []

    def drain(self, *, wait_seconds: int = 0) -> int:
        """Take what was put on the streams so far into ``seen``; how many
        records. With ``wait_seconds``, wait that long for a first one."""
        deadline = time.monotonic() + wait_seconds
        while True:
            taken = self._read_once()
            if taken or time.monotonic() >= deadline:
                return taken
            time.sleep(STREAM_POLL_SECONDS)

    def _read_once(self) -> int:
        taken = 0
        for (stream, shard), iterator in list(self.iterators.items()):
            try:
                page = self.kinesis.get_records(ShardIterator=iterator)
            except (BotoCoreError, ClientError):
                continue  # a refusing broker: the rest waits for the next drain
            for record in page["Records"]:
                self.seen.append(
                    {
                        "Body": record["Data"].decode("utf-8"),
                        "PartitionKey": record["PartitionKey"],
                        "Stream": stream,
                    }
                )
                taken += 1
            if page.get("NextShardIterator"):
                self.iterators[(stream, shard)] = page["NextShardIterator"]
        return taken

    def send_again(self, messages: Iterable[dict]) -> int:
        """Put ``messages`` on their streams again, in the order given; how many."""
        sent = 0
        for message in messages:
            self.kinesis.put_record(
                StreamName=message["Stream"],
                Data=message["Body"].encode("utf-8"),
                PartitionKey=message["PartitionKey"],
            )
            sent += 1
        return sent

    def close(self) -> None:
        """Nothing to remove: reading a stream leaves nothing behind."""


def open_tap(run: PlatformRun, *, name: str) -> EventTap | StreamTap:
    """The tap that sees this platform's events (``name``: the SNS tap's queue)."""
    delivery = run.env.get("EVENT_DELIVERY", "sns")
    if delivery == "kinesis":
        return StreamTap(run)
    if delivery != "sns":
        raise TapUnavailable(
            f"EVENT_DELIVERY={delivery}: producers send to each inbox themselves, "
            "there is no topic to tap"
        )
    return EventTap(run, name=name)

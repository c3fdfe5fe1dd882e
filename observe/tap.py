"""A tap on the platform's topics: sees every event published, sends some again.

A queue of its own is subscribed to every producer's topic (raw delivery), so
it receives a copy of every message the relays publish. What it took can be
sent again to every inbox that subscribes to the message's producer: the
duplicate and out-of-order deliveries that the lab's duplicate-delivery
scenario and the reliability suite inject.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable

from botocore.exceptions import BotoCoreError, ClientError

from shared_events.transport import platform_topology
from stack.local_aws import local_client
from stack.platform_run import PlatformRun


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

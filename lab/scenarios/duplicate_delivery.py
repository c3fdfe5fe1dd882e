"""Every event is delivered more than once.

A tap queue, subscribed to both topics like any other inbox, sees every event
the services publish; the lab then sends each one again to every inbox that
subscribes to its producer. The consumers must notice and apply it once.
"""

from __future__ import annotations

import json

from lab.context import ScenarioContext, wait_for
from lab.measurements import Measurements
from lab.scenarios.base import Scenario
from shared_events.aws.topology import platform_topology
from stack.local_aws import local_client


class DuplicateDelivery(Scenario):
    name = "duplicate-delivery"
    title = "every event is delivered twice"

    def run(self, ctx: ScenarioContext) -> None:
        tap = _Tap(ctx) if ctx.run.uses_events else None
        customer = ctx.register("Duplicate Case")
        ctx.wait_replicated(customer["id"])
        ctx.place_order(customer["id"])
        ctx.place_order(customer["id"])
        ctx.delete(customer["id"])
        if tap is not None:
            ctx.notes.append(f"redelivered {tap.redeliver()} messages")
            tap.close()

    def lesson(self, approach: str, measured: Measurements) -> str:
        if measured.duplicate_effects is None:
            return "no events, so nothing to deliver twice"
        if measured.duplicate_effects:
            return f"{measured.duplicate_effects} effects applied twice"
        return (
            "every event arrived twice and took effect once: the consumers record "
            "each event id with its effect, in one transaction"
        )


class _Tap:
    def __init__(self, ctx: ScenarioContext) -> None:
        run = ctx.run
        self.sqs = local_client("sqs", run.moto.endpoint_url)
        self.sns = local_client("sns", run.moto.endpoint_url)
        prefix = run.env.get("EVENT_TOPOLOGY_PREFIX", "")
        self.topology = platform_topology(prefix=prefix, read_side=run.info.read_side)
        self.queue_url = self.sqs.create_queue(QueueName=f"{prefix}lab-tap")["QueueUrl"]
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

    def redeliver(self) -> int:
        """Send every tapped event again; waits for the delete and what follows."""
        seen: list[dict] = []

        def drain() -> bool:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                MessageAttributeNames=["All"],
            )
            for message in response.get("Messages", []):
                seen.append(message)
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
            deleted = any('"CustomerDeleted"' in m["Body"] for m in seen)
            return deleted and not response.get("Messages")

        wait_for(drain, timeout=15)
        sent = 0
        for message in seen:
            producer = json.loads(message["Body"])["producer"]
            for consumer in self.topology.subscribers_of(producer):
                url = self.sqs.get_queue_url(
                    QueueName=self.topology.queue_name(consumer)
                )["QueueUrl"]
                self.sqs.send_message(
                    QueueUrl=url,
                    MessageBody=message["Body"],
                    MessageAttributes=message.get("MessageAttributes", {}),
                )
                sent += 1
        return sent

    def close(self) -> None:
        for arn in self.subscriptions:
            self.sns.unsubscribe(SubscriptionArn=arn)
        self.sqs.delete_queue(QueueUrl=self.queue_url)

"""Creating the topology in AWS, idempotently: queues, topics, subscriptions, streams.

Things a learner should notice:

* :func:`ensure_topology` is idempotent: it looks before it creates and changes only
  what differs, so it is safe to run at every start, by several processes at once.
  Running it twice changes nothing and returns the same ARNs and URLs. It never
  deletes anything: removing a queue or subscription is a deliberate act.
* Every inbox has a dead-letter queue: a message received ``max_receive_count``
  times without being deleted (its consumer failed each time) is moved aside, so one
  poison message cannot block or endlessly cycle through the inbox.
* Subscriptions use *raw message delivery*: the queue receives the event envelope
  exactly as published, not wrapped in an SNS notification, so a consumer (or a
  Lambda, or a service in another language) reads the same JSON either way.
* A queue policy lets the topics (and only them) send to the inbox, and denies
  ``SendMessage`` to every other principal, so nothing reaches an inbox but through
  a producer's topic. moto does not enforce policies; real AWS silently drops the
  deliveries without one.
* Kinesis (``delivery="kinesis"``): one stream per producer, created with the
  topology's shard count and waited for until ACTIVE (a new stream cannot take
  records before). A stream that exists with another number of open shards is
  refused, never resharded: resharding splits or merges shards, and a consumer
  must then finish every parent shard before its children to keep per-key order
  (moto even keeps routing records to the closed parent). Consumers get only their
  dead-letter queue here: an event source mapping sends it a note of what failed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared_events.transport.clients import AwsSettings, client
from shared_events.transport.topology import (
    DEAD_LETTER_RETENTION_SECONDS,
    Topology,
    TopologyError,
)


@dataclass(frozen=True)
class TopologyReport:
    """What exists after :func:`ensure_topology`: ARNs and URLs, by service name.

    ``subscription_arns`` is keyed by ``(producer, consumer)``; ``stream_arns``
    (by producer) is filled only for ``delivery="kinesis"``, where ``queue_urls``
    stays empty. ``changes`` lists what this particular run created or updated; it
    is left out of equality, so two runs over the same topology compare equal even
    though only the first one made changes.
    """

    topic_arns: dict[str, str]
    queue_urls: dict[str, str]
    queue_arns: dict[str, str]
    dead_letter_queue_urls: dict[str, str]
    subscription_arns: dict[tuple[str, str], str]
    stream_arns: dict[str, str] = field(default_factory=dict)
    changes: tuple[str, ...] = field(default=(), compare=False)

    def describe(self) -> str:
        """A few readable lines for a management command or a log."""
        lines = [f"topic   {p}: {arn}" for p, arn in self.topic_arns.items()]
        lines += [f"stream  {p}: {arn}" for p, arn in self.stream_arns.items()]
        for consumer, dlq_url in self.dead_letter_queue_urls.items():
            if consumer in self.queue_urls:
                lines.append(f"queue   {consumer}: {self.queue_urls[consumer]}")
            lines.append(f"  dlq   {consumer}: {dlq_url}")
        lines += [
            f"subscription {producer} -> {consumer}: {arn}"
            for (producer, consumer), arn in self.subscription_arns.items()
        ]
        lines += [f"changed: {change}" for change in self.changes] or ["no changes"]
        return "\n".join(lines)


def ensure_topology(topology: Topology, settings: AwsSettings) -> TopologyReport:
    """Create whatever is missing of ``topology``, fix what differs, report it all.

    Order matters on real AWS: dead-letter queues before the inboxes that redrive to
    them, and each inbox's policy before its subscriptions, so that the very first
    delivery is allowed.
    """
    sqs = client("sqs", settings)
    changes: list[str] = []

    queue_urls: dict[str, str] = {}
    queue_arns: dict[str, str] = {}
    dead_letter_queue_urls: dict[str, str] = {}
    for consumer in topology.consumers:
        dlq_url, dlq_arn = _ensure_queue(
            sqs,
            topology.dead_letter_queue_name(consumer),
            _dead_letter_queue_attributes(topology),
            changes,
        )
        dead_letter_queue_urls[consumer] = dlq_url
        if topology.delivery == "kinesis":
            continue  # a stream's consumer has no inbox, only the on-failure queue
        url, arn = _ensure_queue(
            sqs,
            topology.queue_name(consumer),
            _inbox_attributes(topology, dead_letter_arn=dlq_arn),
            changes,
        )
        queue_urls[consumer] = url
        queue_arns[consumer] = arn

    topic_arns: dict[str, str] = {}
    subscription_arns: dict[tuple[str, str], str] = {}
    if topology.delivery == "sns":
        sns = client("sns", settings)
        existing_topics = _topic_arns_by_name(sns)
        for producer in topology.producers:
            topic_arns[producer] = _ensure_topic(
                sns,
                topology.topic_name(producer),
                topology.fifo,
                existing_topics,
                changes,
            )
        for consumer, producers in topology.consumers.items():
            if not producers:
                continue
            _ensure_queue_attributes(
                sqs,
                queue_urls[consumer],
                topology.queue_name(consumer),
                {
                    "Policy": _allow_topics_policy(
                        queue_arns[consumer], [topic_arns[p] for p in producers]
                    )
                },
                changes,
            )
            for producer in producers:
                subscription_arns[(producer, consumer)] = _ensure_subscription(
                    sns, topic_arns[producer], queue_arns[consumer], changes
                )

    stream_arns: dict[str, str] = {}
    if topology.delivery == "kinesis":
        kinesis = client("kinesis", settings)
        for producer in topology.producers:
            stream_arns[producer] = _ensure_stream(
                kinesis,
                topology.stream_name(producer),
                topology.kinesis_shards,
                changes,
            )

    return TopologyReport(
        topic_arns=topic_arns,
        queue_urls=queue_urls,
        queue_arns=queue_arns,
        dead_letter_queue_urls=dead_letter_queue_urls,
        subscription_arns=subscription_arns,
        stream_arns=stream_arns,
        changes=tuple(changes),
    )


# --- SQS ------------------------------------------------------------------------


def _fifo_queue_attributes(topology: Topology) -> dict[str, str]:
    if not topology.fifo:
        return {}
    return {"FifoQueue": "true", "ContentBasedDeduplication": "false"}


def _dead_letter_queue_attributes(topology: Topology) -> dict[str, str]:
    return {
        **_fifo_queue_attributes(topology),
        "MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_SECONDS),
        "ReceiveMessageWaitTimeSeconds": str(topology.receive_wait_seconds),
    }


def _inbox_attributes(topology: Topology, *, dead_letter_arn: str) -> dict[str, str]:
    redrive = {
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": topology.max_receive_count,
    }
    return {
        **_fifo_queue_attributes(topology),
        "VisibilityTimeout": str(topology.visibility_timeout),
        "ReceiveMessageWaitTimeSeconds": str(topology.receive_wait_seconds),
        "RedrivePolicy": json.dumps(redrive),
    }


def _ensure_queue(
    sqs: Any, name: str, attributes: dict[str, str], changes: list[str]
) -> tuple[str, str]:
    """Create the queue, or bring an existing one's attributes in line: (url, arn)."""
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        # Another process may create it first: CreateQueue with the same
        # attributes then simply returns the existing queue's URL.
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        changes.append(f"created queue {name}")
        return url, _queue_arn(sqs, url)
    current = _ensure_queue_attributes(sqs, url, name, attributes, changes)
    return url, current["QueueArn"]


def _ensure_queue_attributes(
    sqs: Any, url: str, name: str, wanted: dict[str, str], changes: list[str]
) -> dict[str, str]:
    """Set only the attributes that differ; return the queue's current attributes."""
    current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"
    ]
    if (
        "FifoQueue" in wanted
        and current.get("FifoQueue", "false") != wanted["FifoQueue"]
    ):
        raise TopologyError(
            f"queue {name} exists with FifoQueue={current.get('FifoQueue', 'false')}; "
            "a queue's type cannot change: delete it, or use another prefix"
        )
    stale = {
        key: value
        for key, value in wanted.items()
        if key != "FifoQueue" and not _same_attribute(key, current.get(key), value)
    }
    if stale:
        to_set = dict(stale)
        if "Policy" in current and "Policy" not in to_set:
            # moto 5.2.5 quirk: SetQueueAttributes without a Policy erases the
            # queue's policy (real SQS keeps it), so send the current one along.
            to_set["Policy"] = current["Policy"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=to_set)
        changes.append(f"updated queue {name}: {', '.join(sorted(stale))}")
        current = {**current, **stale}
    return current


def _same_attribute(key: str, current: str | None, wanted: str) -> bool:
    if current is None:
        return False
    if key == "RedrivePolicy":
        return _redrive(current) == _redrive(wanted)
    if key == "Policy":
        return json.loads(current) == json.loads(wanted)
    return current.lower() == wanted.lower()  # "true" vs "True" is the same answer


def _redrive(policy: str) -> tuple[str, int]:
    parsed = json.loads(policy)
    return parsed["deadLetterTargetArn"], int(parsed["maxReceiveCount"])


def _queue_arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def _allow_topics_policy(queue_arn: str, topic_arns: Sequence[str]) -> str:
    """A queue policy: SNS may send to this queue, on behalf of these topics only,
    and every other sender is denied, whatever its own IAM permissions allow
    (the deploy templates' inbox policies, statement for statement)."""
    topics = sorted(topic_arns)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowSubscribedTopicsToSend",
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topics}},
                },
                {
                    "Sid": "DenyEveryOtherSender",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnNotEquals": {"aws:SourceArn": topics}},
                },
            ],
        }
    )


# --- SNS ------------------------------------------------------------------------


def _topic_arns_by_name(sns: Any) -> dict[str, str]:
    arns: dict[str, str] = {}
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page.get("Topics", []):
            arn = topic["TopicArn"]
            arns[arn.rsplit(":", 1)[-1]] = arn
    return arns


def _ensure_topic(
    sns: Any, name: str, fifo: bool, existing: dict[str, str], changes: list[str]
) -> str:
    wanted = {"FifoTopic": "true", "ContentBasedDeduplication": "false"} if fifo else {}
    if name not in existing:
        arn: str = sns.create_topic(Name=name, Attributes=wanted)["TopicArn"]
        changes.append(f"created topic {name}")
        return arn
    arn = existing[name]
    current = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    if current.get("FifoTopic", "false").lower() != ("true" if fifo else "false"):
        raise TopologyError(
            f"topic {name} exists with FifoTopic={current.get('FifoTopic', 'false')}; "
            "a topic's type cannot change: delete it, or use another prefix"
        )
    if fifo and current.get("ContentBasedDeduplication", "false").lower() != "false":
        sns.set_topic_attributes(
            TopicArn=arn,
            AttributeName="ContentBasedDeduplication",
            AttributeValue="false",
        )
        changes.append(f"updated topic {name}: ContentBasedDeduplication")
    return arn


def _ensure_subscription(
    sns: Any, topic_arn: str, queue_arn: str, changes: list[str]
) -> str:
    """Subscribe the queue to the topic once, with raw message delivery."""
    topic_name = topic_arn.rsplit(":", 1)[-1]
    queue_name = queue_arn.rsplit(":", 1)[-1]
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(
        TopicArn=topic_arn
    ):
        for subscription in page.get("Subscriptions", []):
            if (
                subscription["Protocol"] != "sqs"
                or subscription["Endpoint"] != queue_arn
            ):
                continue
            arn: str = subscription["SubscriptionArn"]
            attributes = sns.get_subscription_attributes(SubscriptionArn=arn)[
                "Attributes"
            ]
            if str(attributes.get("RawMessageDelivery", "false")).lower() != "true":
                sns.set_subscription_attributes(
                    SubscriptionArn=arn,
                    AttributeName="RawMessageDelivery",
                    AttributeValue="true",
                )
                changes.append(f"updated subscription {topic_name} -> {queue_name}")
            return arn
    arn = sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    changes.append(f"subscribed {queue_name} to {topic_name}")
    return arn


# --- Kinesis --------------------------------------------------------------------

#: How long a new stream may stay CREATING (real AWS: usually under 30 seconds).
STREAM_ACTIVE_TIMEOUT_SECONDS = 120.0
_STREAM_POLL_SECONDS = 0.5


def _ensure_stream(kinesis: Any, name: str, shards: int, changes: list[str]) -> str:
    """Create the stream with ``shards`` shards, or check an existing one: its ARN.

    Never reshards: an existing stream with another open shard count is refused.
    """
    try:
        summary = _stream_summary(kinesis, name)
    except kinesis.exceptions.ResourceNotFoundException:
        try:
            kinesis.create_stream(
                StreamName=name,
                ShardCount=shards,
                StreamModeDetails={"StreamMode": "PROVISIONED"},
            )
            changes.append(f"created stream {name} with {shards} shards")
        except kinesis.exceptions.ResourceInUseException:
            pass  # another process created it first; it is checked below
        summary = _stream_summary(kinesis, name)
    summary = _wait_until_active(kinesis, name, summary)
    mode = summary.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED")
    if mode != "PROVISIONED":
        raise TopologyError(
            f"stream {name} exists in {mode} mode, which adds shards by itself; the "
            "platform needs a fixed shard count: delete it, or use another prefix"
        )
    if summary["OpenShardCount"] != shards:
        raise TopologyError(
            f"stream {name} exists with {summary['OpenShardCount']} open shards, the "
            f"topology wants {shards}; the platform never reshards (a resharded "
            "stream must be read parents first, and moto keeps writing to the closed "
            "parent): delete the stream, use another prefix, or set "
            f"EVENT_KINESIS_SHARDS={summary['OpenShardCount']}"
        )
    return str(summary["StreamARN"])


def _stream_summary(kinesis: Any, name: str) -> dict[str, Any]:
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]


def _wait_until_active(
    kinesis: Any, name: str, summary: dict[str, Any]
) -> dict[str, Any]:
    """A stream takes records only once ACTIVE (``PutRecords`` fails before)."""
    deadline = time.monotonic() + STREAM_ACTIVE_TIMEOUT_SECONDS
    while summary["StreamStatus"] != "ACTIVE":
        if summary["StreamStatus"] == "DELETING" or time.monotonic() > deadline:
            raise TopologyError(
                f"stream {name} is {summary['StreamStatus']}, not ACTIVE"
            )
        time.sleep(_STREAM_POLL_SECONDS)
        summary = _stream_summary(kinesis, name)
    return summary

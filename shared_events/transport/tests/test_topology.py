"""The messaging topology, created over HTTP in a real moto server."""

from __future__ import annotations

import json
import time

import pytest

from shared_events.transport.aws_publishers import SqsPublisher
from shared_events.transport.clients import AwsSettings, client
from shared_events.transport.provisioning import ensure_topology
from shared_events.transport.routes import resolve_routes
from shared_events.transport.tests.support import envelope_message, receive_all
from shared_events.transport.topology import Topology, TopologyError, platform_topology


@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_ensure_topology_twice_changes_nothing(aws: AwsSettings, fifo: bool) -> None:
    topology = platform_topology(prefix="lab-", fifo=fifo)

    first = ensure_topology(topology, aws)
    second = ensure_topology(topology, aws)

    assert first.changes and second.changes == ()
    assert second == first
    suffix = ".fifo" if fifo else ""
    assert first.topic_arns["customer"].endswith(f":lab-customer-events{suffix}")
    assert first.queue_urls["order"].endswith(f"/lab-order-inbox{suffix}")
    assert first.dead_letter_queue_urls["order"].endswith(
        f"/lab-order-inbox-dlq{suffix}"
    )
    assert set(first.subscription_arns) == {
        ("customer", "order"),
        ("order", "customer"),
    }
    sns = client("sns", aws)
    for producer, topic_arn in first.topic_arns.items():
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)
        assert len(subscriptions["Subscriptions"]) == 1, producer


def test_queues_get_redrive_long_polling_and_a_policy_for_their_topics(
    aws: AwsSettings,
) -> None:
    topology = platform_topology(prefix="lab-", fifo=True, max_receive_count=4)
    report = ensure_topology(topology, aws)
    sqs = client("sqs", aws)

    inbox = sqs.get_queue_attributes(
        QueueUrl=report.queue_urls["order"], AttributeNames=["All"]
    )["Attributes"]
    dead_letter_queue = sqs.get_queue_attributes(
        QueueUrl=report.dead_letter_queue_urls["order"], AttributeNames=["All"]
    )["Attributes"]

    redrive = json.loads(inbox["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dead_letter_queue["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == 4
    assert inbox["ReceiveMessageWaitTimeSeconds"] == "20"
    assert inbox["VisibilityTimeout"] == "30"
    assert inbox["FifoQueue"] == "true"
    assert inbox["ContentBasedDeduplication"] == "false"
    assert dead_letter_queue["FifoQueue"] == "true"
    statement, deny = json.loads(inbox["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == inbox["QueueArn"]
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        report.topic_arns["customer"]
    ]
    # Every other sender is denied, whatever its own permissions (moto does
    # not enforce it; AWS does).
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == (
        "Deny",
        "*",
        "sqs:SendMessage",
    )
    assert deny["Resource"] == inbox["QueueArn"]
    assert deny["Condition"] == {
        "ArnNotEquals": {"aws:SourceArn": [report.topic_arns["customer"]]}
    }
    subscription = client("sns", aws).get_subscription_attributes(
        SubscriptionArn=report.subscription_arns[("customer", "order")]
    )["Attributes"]
    assert subscription["RawMessageDelivery"].lower() == "true"


def test_ensure_topology_repairs_drifted_attributes(aws: AwsSettings) -> None:
    topology = platform_topology(prefix="lab-")
    report = ensure_topology(topology, aws)
    sqs = client("sqs", aws)
    policy = sqs.get_queue_attributes(
        QueueUrl=report.queue_urls["order"], AttributeNames=["Policy"]
    )["Attributes"]["Policy"]
    # The policy goes along only because moto would otherwise erase it.
    sqs.set_queue_attributes(
        QueueUrl=report.queue_urls["order"],
        Attributes={"VisibilityTimeout": "5", "Policy": policy},
    )

    repaired = ensure_topology(topology, aws)

    assert repaired == report
    assert repaired.changes == ("updated queue lab-order-inbox: VisibilityTimeout",)
    attributes = sqs.get_queue_attributes(
        QueueUrl=report.queue_urls["order"], AttributeNames=["VisibilityTimeout"]
    )
    assert attributes["Attributes"]["VisibilityTimeout"] == "30"


def test_sqs_delivery_creates_queues_but_no_topics(aws: AwsSettings) -> None:
    topology = platform_topology(prefix="lab-", delivery="sqs")

    report = ensure_topology(topology, aws)
    routes = resolve_routes(topology, report)

    assert report.topic_arns == {} and report.subscription_arns == {}
    assert client("sns", aws).list_topics()["Topics"] == []
    assert routes.producer("customer").topic_arn is None
    assert routes.producer("customer").queue_urls == (report.queue_urls["order"],)
    assert routes.producer("order").queue_urls == (report.queue_urls["customer"],)


def test_routes_tell_each_service_where_to_publish_and_read(
    aws: AwsSettings,
) -> None:
    topology = platform_topology(prefix="lab-")
    report = ensure_topology(topology, aws)

    routes = resolve_routes(topology, report)

    customer = routes.producer("customer")
    assert customer.delivery == "sns" and customer.queue_urls == ()
    assert customer.topic_arn == report.topic_arns["customer"]
    order = routes.consumer("order")
    assert order.queue_url == report.queue_urls["order"]
    assert order.dead_letter_queue_url == report.dead_letter_queue_urls["order"]
    with pytest.raises(TopologyError):
        routes.consumer("billing")


def test_invalid_topologies_are_refused() -> None:
    with pytest.raises(TopologyError, match="unknown producers"):
        Topology(prefix="", producers=["customer"], consumers={"order": ["payment"]})
    with pytest.raises(TopologyError, match="invalid SQS queue name"):
        Topology(prefix="bad prefix ", producers=[], consumers={"order": []})
    with pytest.raises(TopologyError, match="max_receive_count"):
        platform_topology(max_receive_count=0)


def test_a_message_received_too_often_moves_to_the_dead_letter_queue(
    aws: AwsSettings,
) -> None:
    topology = platform_topology(
        prefix="lab-", delivery="sqs", max_receive_count=2, visibility_timeout=1
    )
    routes = resolve_routes(topology, ensure_topology(topology, aws))
    inbox = routes.consumer("order")
    message = envelope_message()
    SqsPublisher(routes.producer("customer").queue_urls, aws, fifo=False).publish_batch(
        [message]
    )
    sqs = client("sqs", aws)

    # A consumer that fails: it receives the message but never deletes it.
    receive_counts = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        received = sqs.receive_message(
            QueueUrl=inbox.queue_url,
            WaitTimeSeconds=2,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        if not received:
            break
        receive_counts.append(int(received[0]["Attributes"]["ApproximateReceiveCount"]))

    assert receive_counts == [1, 2]
    dead = receive_all(sqs, inbox.dead_letter_queue_url, expected=1)
    assert [m["Body"] for m in dead] == [message.body]


# --- delivery="kinesis" -------------------------------------------------------------


def test_kinesis_delivery_creates_streams_and_dead_letter_queues_only(
    aws: AwsSettings,
) -> None:
    topology = platform_topology(
        prefix="kx-", delivery="kinesis", kinesis_shards=3, read_side=True
    )

    first = ensure_topology(topology, aws)
    second = ensure_topology(topology, aws)

    assert second == first and second.changes == ()
    assert "created stream kx-customer-events with 3 shards" in first.changes
    kinesis = client("kinesis", aws)
    for producer in ("customer", "order"):
        summary = kinesis.describe_stream_summary(StreamName=f"kx-{producer}-events")[
            "StreamDescriptionSummary"
        ]
        assert summary["OpenShardCount"] == 3
        assert summary["StreamStatus"] == "ACTIVE"
        assert first.stream_arns[producer] == summary["StreamARN"]
    # No topics, no inboxes: each consumer keeps only its dead-letter queue,
    # the on-failure destination of its event source mappings.
    assert first.topic_arns == {} and first.subscription_arns == {}
    assert first.queue_urls == {} and first.queue_arns == {}
    assert client("sns", aws).list_topics()["Topics"] == []
    queues = client("sqs", aws).list_queues(QueueNamePrefix="kx-")["QueueUrls"]
    consumers = ("customer", "order", "customer-read", "order-read")
    assert sorted(queues) == sorted(first.dead_letter_queue_urls.values())
    assert sorted(q.rsplit("/", 1)[-1] for q in queues) == sorted(
        f"kx-{c}-inbox-dlq" for c in consumers
    )
    assert "stream  customer: arn:aws:kinesis:" in first.describe()


def test_kinesis_routes_name_the_stream_to_write_and_the_streams_to_read(
    aws: AwsSettings,
) -> None:
    topology = platform_topology(prefix="kx-", delivery="kinesis", read_side=True)
    report = ensure_topology(topology, aws)

    routes = resolve_routes(topology, report)

    customer = routes.producer("customer")
    assert customer.delivery == "kinesis"
    assert customer.stream_name == "kx-customer-events"
    assert customer.stream_arn == report.stream_arns["customer"]
    assert customer.topic_arn is None and customer.queue_urls == ()
    order = routes.consumer("order")
    assert order.queue_url is None
    assert order.stream_arns == (report.stream_arns["customer"],)
    assert order.dead_letter_queue_url.endswith("/kx-order-inbox-dlq")
    assert routes.consumer("order-read").stream_arns == (
        report.stream_arns["customer"],
        report.stream_arns["order"],
    )


def test_a_stream_with_another_shard_count_is_refused_not_resharded(
    aws: AwsSettings,
) -> None:
    kinesis = client("kinesis", aws)
    kinesis.create_stream(StreamName="kx-customer-events", ShardCount=3)

    with pytest.raises(TopologyError, match="3 open shards, the topology wants 2"):
        ensure_topology(platform_topology(prefix="kx-", delivery="kinesis"), aws)

    summary = kinesis.describe_stream_summary(StreamName="kx-customer-events")
    assert summary["StreamDescriptionSummary"]["OpenShardCount"] == 3


def test_an_on_demand_stream_is_refused(aws: AwsSettings) -> None:
    client("kinesis", aws).create_stream(
        StreamName="kx-customer-events", StreamModeDetails={"StreamMode": "ON_DEMAND"}
    )

    with pytest.raises(TopologyError, match="ON_DEMAND"):
        ensure_topology(platform_topology(prefix="kx-", delivery="kinesis"), aws)


def test_invalid_kinesis_topologies_are_refused() -> None:
    with pytest.raises(TopologyError, match="fifo does not apply to kinesis"):
        platform_topology(delivery="kinesis", fifo=True)
    with pytest.raises(TopologyError, match="kinesis_shards must be between 1 and 16"):
        platform_topology(delivery="kinesis", kinesis_shards=0)
    with pytest.raises(TopologyError, match="kinesis_shards"):
        platform_topology(delivery="kinesis", kinesis_shards=17)
    with pytest.raises(TopologyError, match="delivery must be one of"):
        platform_topology(delivery="carrier-pigeon")  # type: ignore[arg-type]
    assert platform_topology(delivery="kinesis").stream_name("order") == (
        "order-events"
    )
    # The shard count means nothing to the other deliveries, so it is not checked.
    assert platform_topology(delivery="sns", kinesis_shards=0).kinesis_shards == 0

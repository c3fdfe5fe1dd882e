"""``EVENT_DELIVERY=kinesis`` through the settings, as a running service meets it.

The publisher comes from ``messaging`` (the topology ensured on first use, on a
real moto server over HTTP); the SQS consumer refuses, with the reason.
"""

from __future__ import annotations

import json

import pytest

from shared_events.transport import KinesisPublisher, TopologyError, client, messaging
from shared_events.transport.tests.support import envelope_message, stream_records


@pytest.fixture
def kinesis_delivery(settings, moto_server):
    moto_server.reset()
    settings.AWS_ENDPOINT_URL = moto_server.endpoint_url
    settings.EVENT_TOPOLOGY_PREFIX = "kx-"
    settings.EVENT_DELIVERY = "kinesis"
    settings.EVENT_FIFO = False
    settings.EVENT_KINESIS_SHARDS = 3
    messaging._routes.clear()
    yield settings
    messaging._routes.clear()
    moto_server.reset()


def test_a_service_publishes_to_its_own_stream(kinesis_delivery) -> None:
    publisher = messaging.event_publisher("customer")
    messages = [envelope_message(aggregate_id="5", version=v) for v in (1, 2)]

    result = publisher.publish_batch(messages)

    assert isinstance(publisher, KinesisPublisher)
    assert publisher.stream_name == "kx-customer-events"
    assert result.accepted == [m.id for m in messages]
    kinesis = client("kinesis", messaging.aws_settings())
    summary = kinesis.describe_stream_summary(StreamName="kx-customer-events")
    assert summary["StreamDescriptionSummary"]["OpenShardCount"] == 3
    records = stream_records(kinesis, "kx-customer-events")
    assert [json.loads(r["Data"])["aggregate_version"] for r in records] == [1, 2]


def test_the_sqs_consumer_refuses_a_stream_and_names_who_reads_it(
    kinesis_delivery,
) -> None:
    with pytest.raises(TopologyError, match="event source mapping runner"):
        messaging.consumer_settings("order")

"""Publishers against a real moto server: what arrives, and what is reported back."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from shared_events.transport.aws_publishers import (
    SnsPublisher,
    SqsPublisher,
    chunk_messages,
    invalid_message_reason,
)
from shared_events.transport.clients import AwsSettings, client
from shared_events.transport.provisioning import ensure_topology
from shared_events.transport.publisher import (
    EventPublisher,
    NullPublisher,
    OutgoingMessage,
    RecordingPublisher,
)
from shared_events.transport.routes import Routes, resolve_routes
from shared_events.transport.tests.support import (
    count_calls,
    envelope_message,
    queue_is_empty,
    receive_all,
)
from shared_events.transport.topology import Topology
from stack.moto_server import start_moto_server

#: Two inboxes listen to one producer, so fan-out is visible.
FAN_OUT = {"order": ["customer"], "billing": ["customer"]}


def fan_out_routes(aws: AwsSettings, *, fifo: bool, delivery: str) -> Routes:
    topology = Topology(
        prefix="lab-",
        producers=["customer"],
        consumers=FAN_OUT,
        fifo=fifo,
        delivery=delivery,  # type: ignore[arg-type]
    )
    return resolve_routes(topology, ensure_topology(topology, aws))


def publisher_for(routes: Routes, aws: AwsSettings, **options: int) -> EventPublisher:
    route = routes.producer("customer")
    if route.topic_arn is not None:
        return SnsPublisher(route.topic_arn, aws, route.fifo, **options)
    return SqsPublisher(route.queue_urls, aws, route.fifo, **options)


def batch_operation(publisher: EventPublisher) -> tuple[str, str]:
    if isinstance(publisher, SnsPublisher):
        return "sns", "PublishBatch"
    return "sqs", "SendMessageBatch"


DELIVERIES = [
    pytest.param(False, "sns", id="sns-standard"),
    pytest.param(True, "sns", id="sns-fifo"),
    pytest.param(False, "sqs", id="sqs-standard"),
    pytest.param(True, "sqs", id="sqs-fifo"),
]


@pytest.mark.parametrize(("fifo", "delivery"), DELIVERIES)
def test_messages_arrive_raw_with_attributes_in_every_subscribed_inbox(
    aws: AwsSettings, fifo: bool, delivery: str
) -> None:
    routes = fan_out_routes(aws, fifo=fifo, delivery=delivery)
    messages = [
        envelope_message(aggregate_id="7", version=1),
        envelope_message(aggregate_id="7", version=2),
        envelope_message(aggregate_id="8", version=1),
    ]

    result = publisher_for(routes, aws).publish_batch(messages)

    assert result.accepted == [m.id for m in messages] and result.failed == {}
    sqs = client("sqs", aws)
    for consumer in FAN_OUT:
        received = receive_all(sqs, routes.consumer(consumer).queue_url, expected=3)
        by_body = {m["Body"]: m for m in received}
        # Raw delivery: the body is the envelope itself, not an SNS notification.
        assert sorted(by_body) == sorted(m.body for m in messages), consumer
        for message in messages:
            arrived = by_body[message.body]
            assert {
                name: (value["DataType"], value["StringValue"])
                for name, value in arrived["MessageAttributes"].items()
            } == {name: ("String", value) for name, value in message.attributes.items()}
            if fifo:
                assert arrived["Attributes"]["MessageGroupId"] == message.group_id
                assert arrived["Attributes"]["MessageDeduplicationId"] == message.id
        if fifo:
            versions = [
                json.loads(m["Body"])["aggregate_version"]
                for m in received
                if json.loads(m["Body"])["aggregate_id"] == "7"
            ]
            assert versions == [1, 2]
        assert queue_is_empty(sqs, routes.consumer(consumer).queue_url)


@pytest.mark.parametrize(("fifo", "delivery"), DELIVERIES)
def test_25_messages_take_3_batch_calls_per_destination(
    aws: AwsSettings, fifo: bool, delivery: str
) -> None:
    routes = fan_out_routes(aws, fifo=fifo, delivery=delivery)
    publisher = publisher_for(routes, aws)
    service, operation = batch_operation(publisher)
    # Event ids that are not valid batch entry ids: entry ids are positions.
    messages = [
        replace(envelope_message(aggregate_id=str(n % 4)), id=f"customer:{n}/event")
        for n in range(25)
    ]

    with count_calls(client(service, aws), operation) as calls:
        result = publisher.publish_batch(messages)

    destinations = 1 if delivery == "sns" else len(FAN_OUT)
    assert len(calls) == 3 * destinations
    assert result.accepted == [m.id for m in messages] and result.failed == {}
    for consumer in FAN_OUT:
        queue_url = routes.consumer(consumer).queue_url
        assert len(receive_all(client("sqs", aws), queue_url, expected=25)) == 25


def test_batches_are_also_split_by_size(aws: AwsSettings) -> None:
    routes = fan_out_routes(aws, fifo=False, delivery="sns")
    publisher = publisher_for(routes, aws)
    # Three 100 KiB messages: two fit under 256 KiB, the third needs its own call.
    messages = [envelope_message(payload={"blob": "x" * 100_000}) for _ in range(3)]

    with count_calls(client("sns", aws), "PublishBatch") as calls:
        result = publisher.publish_batch(messages)

    assert len(calls) == 2
    assert result.accepted == [m.id for m in messages]
    receive_all(client("sqs", aws), routes.consumer("order").queue_url, expected=3)
    receive_all(client("sqs", aws), routes.consumer("billing").queue_url, expected=3)


def test_an_entry_the_broker_rejects_fails_alone_within_its_batch(
    aws: AwsSettings,
) -> None:
    """HTTP 200, yet one entry failed: only the ``Failed`` list tells."""
    routes = fan_out_routes(aws, fifo=False, delivery="sns")
    # A 1 MiB batch budget lets the oversized message share a call with the others.
    publisher = publisher_for(routes, aws, max_batch_bytes=1024 * 1024)
    small, too_big, also_small = (
        envelope_message(),
        envelope_message(payload={"blob": "x" * 300_000}),
        envelope_message(),
    )

    with count_calls(client("sns", aws), "PublishBatch") as calls:
        result = publisher.publish_batch([small, too_big, also_small])

    assert len(calls) == 1
    assert result.accepted == [small.id, also_small.id]
    assert list(result.failed) == [too_big.id]
    assert "InvalidParameter" in result.failed[too_big.id]
    assert "too long" in result.failed[too_big.id]
    arrived = receive_all(
        client("sqs", aws), routes.consumer("order").queue_url, expected=2
    )
    assert sorted(m["Body"] for m in arrived) == sorted([small.body, also_small.body])


def test_a_batch_the_broker_rejects_as_a_whole_fails_only_its_own_messages(
    aws: AwsSettings,
) -> None:
    routes = fan_out_routes(aws, fifo=False, delivery="sqs")
    publisher = publisher_for(routes, aws)
    small, too_big, also_small = (
        envelope_message(),
        envelope_message(payload={"blob": "x" * 1_100_000}),  # over SQS's 1 MiB
        envelope_message(),
    )

    result = publisher.publish_batch([small, too_big, also_small])

    assert result.accepted == [small.id, also_small.id]
    assert list(result.failed) == [too_big.id]
    assert "lab-order-inbox" in result.failed[too_big.id]
    assert "lab-billing-inbox" in result.failed[too_big.id]
    for consumer in FAN_OUT:
        queue_url = routes.consumer(consumer).queue_url
        assert len(receive_all(client("sqs", aws), queue_url, expected=2)) == 2


def test_a_poison_message_fails_before_sending_instead_of_failing_its_batch(
    aws: AwsSettings,
) -> None:
    routes = fan_out_routes(aws, fifo=False, delivery="sns")
    good = envelope_message()
    poison = OutgoingMessage(
        id="poison", body=good.body, group_id="1", attributes={"event_type": ""}
    )

    with count_calls(client("sns", aws), "PublishBatch") as calls:
        result = publisher_for(routes, aws).publish_batch([poison, good])

    assert len(calls) == 1
    assert result.accepted == [good.id]
    assert "empty value" in result.failed["poison"]
    receive_all(client("sqs", aws), routes.consumer("order").queue_url, expected=1)
    receive_all(client("sqs", aws), routes.consumer("billing").queue_url, expected=1)


def test_fifo_holds_back_a_group_behind_its_failed_message(aws: AwsSettings) -> None:
    routes = fan_out_routes(aws, fifo=True, delivery="sns")
    first = OutgoingMessage(id="a1", body="{}", group_id="a", attributes={"x": ""})
    second = envelope_message(aggregate_id="a")
    other_group = envelope_message(aggregate_id="b")

    result = publisher_for(routes, aws).publish_batch([first, second, other_group])

    assert result.accepted == [other_group.id]
    assert set(result.failed) == {"a1", second.id}
    assert "earlier message of group a" in result.failed[second.id]
    for consumer in FAN_OUT:
        receive_all(client("sqs", aws), routes.consumer(consumer).queue_url, expected=1)


def test_fifo_deduplicates_a_republished_event(aws: AwsSettings) -> None:
    """A relay that crashed after publishing publishes again: one copy arrives."""
    routes = fan_out_routes(aws, fifo=True, delivery="sns")
    publisher = publisher_for(routes, aws)
    message = envelope_message()

    assert publisher.publish_batch([message]).accepted == [message.id]
    assert publisher.publish_batch([message]).accepted == [message.id]

    sqs = client("sqs", aws)
    # moto forgets a deduplication id once its message is deleted, so both
    # publishes happen before anything is received.
    assert (
        len(receive_all(sqs, routes.consumer("order").queue_url, expected=2, timeout=2))
        == 1
    )
    receive_all(sqs, routes.consumer("billing").queue_url, expected=1)


@pytest.mark.parametrize("delivery", ["sns", "sqs"])
def test_a_stopped_broker_fails_every_message_without_raising(delivery: str) -> None:
    server = start_moto_server()
    try:
        aws = AwsSettings(
            endpoint_url=server.endpoint_url, max_attempts=1, connect_timeout=1
        )
        routes = fan_out_routes(aws, fifo=False, delivery=delivery)
        publisher = publisher_for(routes, aws)
    finally:
        server.stop()
    messages = [envelope_message() for _ in range(25)]
    service, operation = batch_operation(publisher)

    with count_calls(client(service, aws), operation) as calls:
        result = publisher.publish_batch(messages)

    assert result.accepted == []
    assert list(result.failed) == [m.id for m in messages]
    assert all("Could not connect" in reason for reason in result.failed.values())
    # After a network error the remaining batches are not even tried.
    assert len(calls) == 1


def test_an_empty_batch_makes_no_call(aws: AwsSettings) -> None:
    routes = fan_out_routes(aws, fifo=False, delivery="sns")

    with count_calls(client("sns", aws), "PublishBatch") as calls:
        result = publisher_for(routes, aws).publish_batch([])

    assert calls == [] and result.accepted == [] and result.failed == {}


def test_duplicate_ids_in_one_call_are_a_programming_error(aws: AwsSettings) -> None:
    routes = fan_out_routes(aws, fifo=False, delivery="sns")
    message = envelope_message()

    with pytest.raises(ValueError, match="own id"):
        publisher_for(routes, aws).publish_batch([message, message])


# --- no server needed -----------------------------------------------------------


def test_chunks_keep_order_and_respect_both_limits() -> None:
    messages = [envelope_message() for _ in range(25)]
    assert [len(batch) for batch in chunk_messages(messages)] == [10, 10, 5]
    assert [m for batch in chunk_messages(messages) for m in batch] == messages

    big = [envelope_message(payload={"blob": "x" * 100_000}) for _ in range(5)]
    assert [len(batch) for batch in chunk_messages(big)] == [2, 2, 1]

    huge = envelope_message(payload={"blob": "x" * 300_000})
    small = envelope_message()
    assert [len(b) for b in chunk_messages([small, huge, small])] == [1, 1, 1]


def test_null_publisher_accepts_everything() -> None:
    messages = [envelope_message() for _ in range(3)]

    result = NullPublisher().publish_batch(messages)

    assert result.accepted == [m.id for m in messages] and result.all_accepted


def test_recording_publisher_records_and_fails_on_request() -> None:
    kept, refused = envelope_message(), envelope_message()
    publisher = RecordingPublisher(failures={refused.id: "Throttling: slow down"})

    result = publisher.publish_batch([kept, refused])

    assert result.accepted == [kept.id]
    assert result.failed == {refused.id: "Throttling: slow down"}
    assert publisher.published == [kept] and publisher.calls == [[kept, refused]]

    publisher.outage = "EndpointConnectionError: down"
    assert publisher.publish_batch([kept]).failed == {kept.id: publisher.outage}


def test_messages_aws_would_reject_for_the_whole_batch_are_caught_locally() -> None:
    good = envelope_message()
    assert invalid_message_reason(good, fifo=True) is None
    assert "empty" in str(invalid_message_reason(replace(good, body=""), fifo=False))
    assert "characters" in str(
        invalid_message_reason(replace(good, body="\u0000"), fifo=False)
    )
    assert "ASCII" in str(
        invalid_message_reason(replace(good, group_id="Zoë"), fifo=True)
    )
    assert invalid_message_reason(replace(good, group_id="Zoë"), fifo=False) is None
    reserved = replace(good, attributes={"AWS.trace": "x"})
    assert "not allowed" in str(invalid_message_reason(reserved, fifo=False))


def test_sqs_publisher_without_subscribers_accepts_like_a_lonely_topic() -> None:
    publisher = SqsPublisher([], AwsSettings(endpoint_url="http://127.0.0.1:9"), False)
    messages = [envelope_message() for _ in range(3)]

    assert publisher.publish_batch(messages).accepted == [m.id for m in messages]

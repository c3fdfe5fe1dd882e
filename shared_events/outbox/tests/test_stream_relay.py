"""The stream as the outbox: ``publish_committed`` on recorded DynamoDB Streams events.

Each record is one commit of the event table (AWS's recorded event shape,
``shared_events.testing.aws_events``). Every commit's envelopes reach the
publisher in order; the first record not wholly accepted is the one
``batchItemFailures`` entry, and nothing after it is published in that
invocation. The services' contract
(``shared_events.testing.dynamodb_store_contract``) runs the same handler on
the real moto stream into the real inboxes.
"""

from __future__ import annotations

import copy
import uuid

import pytest
from prometheus_client import REGISTRY

from shared_events.events import encode
from shared_events.outbox import publish_committed
from shared_events.testing.aws_events import (
    DYNAMODB_STREAM,
    aws_event,
    failures,
    item_identifiers,
)
from shared_events.testing.customer_events import registered, renamed
from shared_events.transport import PublishResult, RecordingPublisher

NOTHING_FAILED = {"batchItemFailures": []}


def commits(count: int = 3) -> list[list]:
    """``count`` customers' commits: a registration, then one of two renames."""
    found = []
    for number in range(count):
        customer_id = uuid.uuid4()
        if number % 2:
            found.append(
                [renamed(customer_id, version=2), renamed(customer_id, version=3)]
            )
        else:
            found.append([registered(customer_id)])
    return found


def event_of(envelope_commits: list[list]) -> dict:
    return aws_event(
        DYNAMODB_STREAM,
        [[encode(envelope) for envelope in commit] for commit in envelope_commits],
    )


def published_ids(publisher: RecordingPublisher) -> list[str]:
    return [message.id for message in publisher.published]


def test_every_commit_is_published_in_order_with_its_envelope_as_the_body():
    committed = commits()
    publisher = RecordingPublisher()

    answer = publish_committed(event_of(committed), publisher=publisher)

    assert answer == NOTHING_FAILED
    envelopes = [envelope for commit in committed for envelope in commit]
    assert [(m.id, m.body, m.group_id) for m in publisher.published] == [
        (str(e.event_id), encode(e), str(e.aggregate_id)) for e in envelopes
    ]
    assert publisher.published[0].attributes == {
        "event_type": "CustomerRegistered",
        "aggregate_type": "Customer",
    }
    assert [len(call) for call in publisher.calls] == [1, 2, 1]  # one per commit


def test_the_first_record_not_wholly_accepted_is_reported_and_the_rest_wait():
    committed = commits()
    event = event_of(committed)
    second_event_of_record_two = str(committed[1][1].event_id)
    publisher = RecordingPublisher(failures={second_event_of_record_two: "refused"})

    answer = publish_committed(event, publisher=publisher)

    assert answer == failures(item_identifiers(event)[1])
    assert len(publisher.calls) == 2  # record three was never offered
    assert str(committed[2][0].event_id) not in published_ids(publisher)


def test_a_retry_from_the_reported_record_publishes_the_rest():
    committed = commits()
    event = event_of(committed)
    first_try = RecordingPublisher(failures={str(committed[1][0].event_id): "down"})
    reported = publish_committed(event, publisher=first_try)["batchItemFailures"]

    # Lambda retries from the reported sequence number on.
    start = item_identifiers(event).index(reported[0]["itemIdentifier"])
    retry = {"Records": event["Records"][start:]}
    second_try = RecordingPublisher()

    assert publish_committed(retry, publisher=second_try) == NOTHING_FAILED
    everything = [str(e.event_id) for commit in committed for e in commit]
    assert set(published_ids(first_try)) | set(published_ids(second_try)) == set(
        everything
    )


def test_an_outage_reports_the_first_record():
    event = event_of(commits())

    answer = publish_committed(event, publisher=RecordingPublisher(outage="down"))

    assert answer == failures(item_identifiers(event)[0])


class RaisingPublisher(RecordingPublisher):
    def publish_batch(self, messages) -> PublishResult:
        raise RuntimeError("a bug, not an answer")


def test_a_publisher_that_raises_fails_the_record_instead_of_the_invocation():
    event = event_of(commits())

    answer = publish_committed(event, publisher=RaisingPublisher())

    assert answer == failures(item_identifiers(event)[0])


@pytest.mark.parametrize(
    "poison",
    [["not json"], ['{"event_type": "CustomerRegistered"}']],
    ids=["not JSON", "not an envelope"],
)
def test_a_record_that_is_no_valid_commit_is_reported_not_skipped(poison):
    committed = commits(2)
    event = aws_event(
        DYNAMODB_STREAM,
        [
            [encode(committed[0][0])],
            poison,
            [encode(envelope) for envelope in committed[1]],
        ],
    )
    publisher = RecordingPublisher()

    answer = publish_committed(event, publisher=publisher)

    assert answer == failures(item_identifiers(event)[1])
    assert published_ids(publisher) == [str(committed[0][0].event_id)]


def test_a_new_image_without_events_is_reported():
    event = event_of(commits(1))
    del event["Records"][0]["dynamodb"]["NewImage"]["events"]

    answer = publish_committed(event, publisher=RecordingPublisher())

    assert answer == failures(item_identifiers(event)[0])


@pytest.mark.parametrize("name", ["MODIFY", "REMOVE"])
def test_a_record_that_is_not_an_insert_publishes_nothing(name):
    committed = commits(2)
    event = event_of(committed)
    changed = copy.deepcopy(event["Records"][0])
    changed["eventName"] = name
    event["Records"].insert(1, changed)
    publisher = RecordingPublisher()

    answer = publish_committed(event, publisher=publisher)

    assert answer == NOTHING_FAILED
    assert published_ids(publisher) == [
        str(envelope.event_id) for commit in committed for envelope in commit
    ]


def test_what_the_broker_accepted_and_refused_is_counted_as_the_relays_is():
    """Named by its service, the stream relay counts like the outbox relay
    (relay_published_events_total, relay_failed_events_total)."""
    committed = commits()
    refused = str(committed[1][1].event_id)
    labels = {"service": "customer", "destination": "recording"}

    def counted(name: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    published, failed = (
        counted("relay_published_events_total"),
        counted("relay_failed_events_total"),
    )

    publish_committed(
        event_of(committed),
        publisher=RecordingPublisher(failures={refused: "refused"}),
        service="customer",
    )

    # The first record (1 event) went; the second: 1 accepted, 1 refused;
    # the third waits for the retry.
    assert counted("relay_published_events_total") == published + 2
    assert counted("relay_failed_events_total") == failed + 1

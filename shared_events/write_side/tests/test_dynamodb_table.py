"""The DynamoDB event table itself, on a real moto server over HTTP.

Created idempotently with its stream; one conditional ``PutItem`` per
commit; a retried put of the same commit is the same commit, not a
conflict; an outage is ``EventStoreUnavailable`` with the reason. And
``aws_bootstrap`` creates each event-sourced service's table.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ReadTimeoutError
from django.core.management import call_command

from shared_events.testing.customer_events import registered, renamed
from shared_events.testing.dynamodb_tables import table_items
from shared_events.transport import AwsSettings, client, platform_topology
from shared_events.write_side.dynamodb import (
    EventTable,
    EventTableMismatch,
    commit_of,
    ensure_event_table,
)
from shared_events.write_side.dynamodb.provisioning import (
    ATTRIBUTE_DEFINITIONS,
    KEY_SCHEMA,
)
from shared_events.write_side.errors import ConcurrencyConflict, EventStoreUnavailable
from stack.loopback import free_port

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.fixture
def dynamodb(moto_server):
    moto_server.reset()
    yield client("dynamodb", AwsSettings(endpoint_url=moto_server.endpoint_url))
    moto_server.reset()


@pytest.fixture
def table(dynamodb) -> EventTable:
    return EventTable(name="dd-t-customer-events-store", client=dynamodb)


def test_the_table_is_created_once_with_a_new_image_stream(dynamodb):
    name = platform_topology(prefix="dd-t-").event_table_name("customer")

    first = ensure_event_table(dynamodb, name)
    second = ensure_event_table(dynamodb, name)

    assert name == "dd-t-customer-events-store"
    assert first == [f"created event table {name} (stream NEW_IMAGE)"]
    assert second == []
    described = dynamodb.describe_table(TableName=name)["Table"]
    assert described["KeySchema"] == KEY_SCHEMA
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert described["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_IMAGE",
    }


def test_a_table_without_a_stream_gets_one(dynamodb):
    name = "dd-t-order-events-store"
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=KEY_SCHEMA,
        AttributeDefinitions=ATTRIBUTE_DEFINITIONS,
    )

    assert ensure_event_table(dynamodb, name) == [
        f"enabled the stream (NEW_IMAGE) of event table {name}"
    ]
    stream = dynamodb.describe_table(TableName=name)["Table"]["StreamSpecification"]
    assert stream == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}


@pytest.mark.parametrize(
    ("keys", "stream", "reason"),
    [
        (
            [{"AttributeName": "aggregate_id", "KeyType": "HASH"}],
            {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            "key schema",
        ),
        (
            KEY_SCHEMA,
            {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
            "streams KEYS_ONLY",
        ),
    ],
    ids=["another key", "another stream"],
)
def test_a_table_it_cannot_use_is_refused_not_changed(dynamodb, keys, stream, reason):
    name = "dd-t-odd-events-store"
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=keys,
        AttributeDefinitions=ATTRIBUTE_DEFINITIONS[: len(keys)],
        StreamSpecification=stream,
    )

    with pytest.raises(EventTableMismatch, match=reason):
        ensure_event_table(dynamodb, name)


def test_a_commit_is_one_item_in_the_fixed_format(table, dynamodb):
    customer_id = uuid.uuid4()
    envelopes = [registered(customer_id), renamed(customer_id, version=2)]

    table.append(commit_of(envelopes, committed_at=NOW))

    (item,) = table_items(dynamodb, table.name)
    assert set(item) == {
        "aggregate_id",
        "version",
        "last_version",
        "aggregate_type",
        "producer",
        "committed_at",
        "events",
    }
    assert item["aggregate_id"] == {"S": str(customer_id)}
    assert (item["version"], item["last_version"]) == ({"N": "1"}, {"N": "2"})
    assert item["aggregate_type"] == {"S": "Customer"}
    assert item["producer"] == {"S": "customer"}
    assert item["committed_at"] == {"S": "2026-01-02T03:04:05.678901Z"}
    (commit,) = table.commits(str(customer_id))
    assert commit.committed_at == NOW
    assert [envelope.event_id for envelope in commit.envelopes()] == [
        envelope.event_id for envelope in envelopes
    ]


def test_a_taken_first_version_is_a_conflict(table):
    customer_id = uuid.uuid4()
    table.append(commit_of([registered(customer_id)], committed_at=NOW))

    with pytest.raises(ConcurrencyConflict, match="version 1 already exists"):
        table.append(commit_of([registered(customer_id)], committed_at=NOW))

    assert len(table.commits(str(customer_id))) == 1


def test_the_same_commit_put_again_is_that_commit_not_a_conflict(table):
    """What the SDK's retry of a put whose answer was lost looks like."""
    customer_id = uuid.uuid4()
    commit = commit_of([registered(customer_id)], committed_at=NOW)

    table.append(commit)
    table.append(commit)

    assert table.commits(str(customer_id)) == [commit]


def test_commits_up_to_a_version_include_the_commit_that_spans_it(table):
    customer_id = uuid.uuid4()
    table.append(commit_of([registered(customer_id)], committed_at=NOW))
    table.append(
        commit_of(
            [renamed(customer_id, version=2), renamed(customer_id, version=3)],
            committed_at=NOW,
        )
    )
    table.append(commit_of([renamed(customer_id, version=4)], committed_at=NOW))

    assert [c.version for c in table.commits(str(customer_id), up_to_version=2)] == [
        1,
        2,
    ]
    assert [c.last_version for c in table.commits(str(customer_id))] == [1, 3, 4]


def test_an_unreachable_table_is_unavailable_with_the_reason():
    nowhere = AwsSettings(
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        max_attempts=1,
        connect_timeout=0.5,
    )
    table = EventTable(
        name="dd-t-customer-events-store", client=client("dynamodb", nowhere)
    )
    commit = commit_of([registered(uuid.uuid4())], committed_at=NOW)

    for attempt in (
        lambda: table.append(commit),
        lambda: table.commits(commit.aggregate_id),
    ):
        with pytest.raises(EventStoreUnavailable) as unavailable:
            attempt()
        assert "could not be reached; try again" in unavailable.value.message
        assert "EndpointConnectionError" in unavailable.value.message


class AnswerLost:
    """The real client, except that the answer to a ``PutItem`` is lost."""

    def __init__(self, client) -> None:
        self._client = client

    def put_item(self, **kwargs):
        self._client.put_item(**kwargs)
        raise ReadTimeoutError(endpoint_url="http://dynamodb.example")

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_a_lost_answer_may_have_committed_and_the_retry_finds_it_in(table):
    commit = commit_of([registered(uuid.uuid4())], committed_at=NOW)
    real = table.client
    table.client = AnswerLost(real)

    with pytest.raises(EventStoreUnavailable, match="it may have been applied"):
        table.append(commit)

    assert table.commits(commit.aggregate_id) == [commit]  # it was
    table.client = real
    table.append(commit)  # the client's retry: the same commit, so no conflict


def test_aws_bootstrap_creates_each_event_sourced_services_table(
    moto_server, dynamodb, settings
):
    settings.AWS_ENDPOINT_URL = moto_server.endpoint_url
    settings.EVENT_TOPOLOGY_PREFIX = "dd-boot-"
    settings.ARCHITECTURE_APPROACH = "event_sourcing"
    settings.EVENT_STORE = "dynamodb"

    call_command("aws_bootstrap", stdout=(first := io.StringIO()))
    call_command("aws_bootstrap", stdout=(again := io.StringIO()))

    assert sorted(dynamodb.list_tables()["TableNames"]) == [
        "dd-boot-customer-events-store",
        "dd-boot-order-events-store",
    ]
    assert "event table dd-boot-order-events-store: created" in first.getvalue()
    assert "event table dd-boot-order-events-store: ok" in again.getvalue()


def test_aws_bootstrap_creates_no_table_for_the_postgres_store(
    moto_server, dynamodb, settings
):
    settings.AWS_ENDPOINT_URL = moto_server.endpoint_url
    settings.EVENT_TOPOLOGY_PREFIX = "dd-boot-"
    settings.ARCHITECTURE_APPROACH = "event_sourcing"
    settings.EVENT_STORE = "postgres"

    call_command("aws_bootstrap", stdout=io.StringIO())

    assert dynamodb.list_tables()["TableNames"] == []

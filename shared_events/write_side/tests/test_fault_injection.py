"""The ``FAULT_INJECTION`` setting as the write side reads it, and a throttled
commit of the DynamoDB event table (a real moto server over HTTP)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared_events.testing.customer_events import registered
from shared_events.testing.dynamodb_tables import table_items
from shared_events.transport import AwsSettings, client
from shared_events.transport.throttle_injection import InjectedThrottle
from shared_events.write_side.dynamodb import EventTable, commit_of
from shared_events.write_side.errors import EventStoreUnavailable
from shared_events.write_side.repositories import (
    BROKER_REFUSES,
    CRASH_BEFORE_PUBLISH,
    SLOW_CREDIT_CHECK,
    THROTTLE_AWS,
    Fault,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_crash_limited_to_event_types():
    fault = Fault.parse("crash_before_publish:CustomerDeleted, OrderPlaced")

    assert fault == Fault(
        CRASH_BEFORE_PUBLISH, frozenset({"CustomerDeleted", "OrderPlaced"})
    )


def test_a_throttle_is_known_here_and_left_to_the_aws_clients():
    fault = Fault.parse("throttle_aws:PutRecords,PutItem@0.1")

    assert fault == Fault(THROTTLE_AWS)
    # Its names are AWS operations: no commit ever matches them here.
    assert not fault.applies(CRASH_BEFORE_PUBLISH, [registered(uuid.uuid4())])
    assert not fault.applies(BROKER_REFUSES, [registered(uuid.uuid4())])


def test_a_held_credit_check_is_known_here_and_left_to_the_order_service():
    fault = Fault.parse("slow_credit_check:300")

    assert fault == Fault(SLOW_CREDIT_CHECK)
    assert not fault.applies(CRASH_BEFORE_PUBLISH, [registered(uuid.uuid4())])


def test_an_unknown_fault_names_every_kind():
    with pytest.raises(
        ValueError, match="crash_before_publish, broker_refuses, throttle_aws"
    ):
        Fault.parse("throttle_everything")


def test_a_throttled_commit_is_unavailable_and_certainly_not_applied(moto_server):
    moto_server.reset()
    plain = client("dynamodb", AwsSettings(endpoint_url=moto_server.endpoint_url))
    throttling = client(
        "dynamodb",
        AwsSettings(
            endpoint_url=moto_server.endpoint_url,
            throttle=InjectedThrottle(frozenset({"PutItem"})),
        ),
    )
    table = EventTable(name="fi-customer-events-store", client=throttling)
    commit = commit_of([registered(uuid.uuid4())], committed_at=NOW)
    try:
        with pytest.raises(EventStoreUnavailable) as unavailable:
            table.append(commit)

        # "did not take": the client knows the commit is not in (no "may have
        # been applied", which only a lost answer says).
        message = unavailable.value.message
        assert "did not take the commit; try again" in message
        assert "ProvisionedThroughputExceededException" in message
        assert "may have been applied" not in message
        assert table_items(plain, table.name) == []
    finally:
        moto_server.reset()

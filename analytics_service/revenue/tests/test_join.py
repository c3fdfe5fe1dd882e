"""Joining: subscribe first, replay the order store, then follow the inbox.

On the real path: a real PostgreSQL database standing for the order
service's write database (its ``event_store``, read through the replay's
read-only connection), a real moto server with the order events topic, the
analytics inbox subscribed to it by the platform's own provisioning, events
published signed by the order service's key, and the platform's SQS
consumer.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analytics_service import bootstrap
from analytics_service.revenue.catch_up import replay_order_history, subscribe_inbox
from analytics_service.revenue.handlers import REVENUE_HANDLERS
from analytics_service.revenue.management.commands.analytics_catch_up import (
    SUMMARY_PREFIX,
)
from analytics_service.revenue.tests.events import order_event, placed
from analytics_service.revenue.tests.test_folds import days
from shared_events.approaches import Approach
from shared_events.consume import EventConsumer, Outcome
from shared_events.events import EventType
from shared_events.testing.peer_event_store import (
    empty_peer,
    peer_event_store,
    store_in_peer,
)
from shared_events.transport import messaging

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def order_store(django_db_blocker) -> Iterator[str]:
    """A stand-in for the order service's write database: its event store."""
    with peer_event_store(f"orders{os.getpid()}") as url:
        yield url


@pytest.fixture(autouse=True)
def empty_store(order_store):
    yield
    empty_peer(order_store)


@pytest.fixture
def local_aws(settings, moto_server):
    """The platform's topology on moto, under a prefix of this test's own."""
    settings.ARCHITECTURE_APPROACH = Approach.EVENT_SOURCING.value
    settings.AWS_ENDPOINT_URL = moto_server.endpoint_url
    settings.EVENT_TOPOLOGY_PREFIX = f"an-{uuid.uuid4().hex[:8]}-"
    settings.EVENT_CONSUMER_WAIT_SECONDS = 0
    settings.EVENT_DELIVERY = "sns"


def drain(inbox) -> list[Outcome]:
    consumer = EventConsumer(
        settings=replace(inbox, wait_time_seconds=0),
        sqs=messaging.sqs_client(),
        handlers=REVENUE_HANDLERS,
    )
    outcomes: list[Outcome] = []
    while batch := consumer.poll_once():
        outcomes += batch
    return outcomes


def test_replay_then_live_applies_every_event_once(local_aws, order_store):
    ada, bob = uuid.uuid4(), uuid.uuid4()
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    history = [
        placed(first, ada, total="10.00"),
        placed(second, ada, total="4.00"),
        placed(third, bob, total="7.00"),
        order_event(
            EventType.ORDER_CANCELLED, order_id=second, customer_id=ada, version=2
        ),
    ]
    store_in_peer(order_store, history)

    inbox = subscribe_inbox()
    # While the replay starts: the last event of the past published again
    # (a relay's retry), and a new order committed and published.
    joining = placed(uuid.uuid4(), bob, total="1.50")
    store_in_peer(order_store, [joining])
    messaging.publish_now("order", [history[-1], joining])

    result = replay_order_history(
        event_store_url=order_store, consumer=inbox.name, report=lambda line: None
    )
    assert (result.read, result.applied, result.held, result.refused) == (5, 5, 0, 0)
    # What the inbox holds, the replay applied already.
    assert drain(inbox) == [Outcome.DUPLICATE, Outcome.DUPLICATE]

    later = order_event(
        EventType.ORDER_CANCELLED, order_id=third, customer_id=bob, version=2
    )
    messaging.publish_now("order", [later])
    assert drain(inbox) == [Outcome.APPLIED]
    assert days() == {
        (str(ada), date(2026, 3, 1)): (1, Decimal("10.00")),
        (str(bob), date(2026, 3, 1)): (1, Decimal("1.50")),
    }


def test_the_command_subscribes_replays_and_follows(local_aws, order_store):
    customer = uuid.uuid4()
    store_in_peer(order_store, [placed(uuid.uuid4(), customer, total="3.00")])
    out = StringIO()
    with bootstrap.overridden(order_event_store_url=lambda: order_store):
        call_command(
            "analytics_catch_up",
            "--follow",
            "--until-idle",
            "--wait-seconds",
            "0",
            "--json",
            stdout=out,
        )
    text = out.getvalue()
    assert (
        text.index("1. subscribed")
        < text.index("2. replaying")
        < text.index("3. following")
    )
    (summary,) = [line for line in text.splitlines() if line.startswith(SUMMARY_PREFIX)]
    assert json.loads(summary.removeprefix(SUMMARY_PREFIX))["applied"] == 1
    assert days() == {(str(customer), date(2026, 3, 1)): (1, Decimal("3.00"))}


def test_without_order_events_the_command_refuses_saying_why(settings):
    settings.ARCHITECTURE_APPROACH = Approach.DB_PER_SERVICE.value
    with pytest.raises(CommandError, match="publishes no events"):
        call_command("analytics_catch_up")


def test_it_joins_through_sns_only(settings):
    settings.EVENT_DELIVERY = "kinesis"
    wiring = bootstrap.build_wiring(Approach.EVENT_SOURCING)
    assert "SNS/SQS only" in wiring.no_live_delivery
    settings.EVENT_DELIVERY = "sns"
    settings.EVENT_STORE = "dynamodb"
    assert "DynamoDB" in bootstrap.build_wiring(Approach.CQRS_ES).no_history

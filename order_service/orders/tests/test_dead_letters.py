"""``dead_letters``: list the order service's dead letters, fix, redrive, applied.

Against a real moto server over HTTP, on queues that ``ensure_topology`` made
under a unique prefix. The command finds them as a running service would:
through the settings (``AWS_ENDPOINT_URL``, ``EVENT_TOPOLOGY_PREFIX``) and
``shared_events.transport.messaging``.
"""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from order_service.orders.models import CustomerReplica
from order_service.orders.tests.consumer_support import (  # noqa: F401 (fixtures)
    Inbox,
    body,
    consume_until_dead_lettered,
    inbox_fixture,
    moto_server_fixture,
    no_backoff_fixture,
    order_consumer,
    poll_until_counted,
    registered,
    renamed,
)
from shared_events.consume import Outcome
from shared_events.events import EventType
from shared_events.transport import messaging
from shared_events.transport.dead_letters import FAILURE_REASON

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def service_queues(inbox: Inbox, settings):
    """The order service's settings pointed at the test's inbox on moto."""
    settings.AWS_ENDPOINT_URL = inbox.aws.endpoint_url
    settings.EVENT_TOPOLOGY_PREFIX = inbox.prefix
    settings.EVENT_MAX_RECEIVE_COUNT = inbox.max_receive_count
    settings.EVENT_VISIBILITY_TIMEOUT = 30
    settings.EVENT_DELIVERY = "sns"
    settings.EVENT_FIFO = False
    messaging._routes.clear()
    route = messaging.consumer_settings("order")
    # The same queues as the inbox fixture's: ensure_topology is idempotent.
    assert (route.queue_url, route.dead_letter_queue_url) == (
        inbox.queue_url,
        inbox.dead_letter_queue_url,
    )
    yield inbox
    messaging._routes.clear()


def dead_letters(*args: str) -> str:
    out = StringIO()
    call_command("dead_letters", *args, stdout=out)
    return out.getvalue()


def send_dead_letter(inbox: Inbox, message_body: str, reason: str) -> str:
    """A letter as the consumer dead-letters one: the reason as an attribute."""
    return inbox.sqs.send_message(
        QueueUrl=inbox.dead_letter_queue_url,
        MessageBody=message_body,
        MessageAttributes={
            "event_type": {"DataType": "String", "StringValue": "CustomerRenamed"},
            FAILURE_REASON: {"DataType": "String", "StringValue": reason},
        },
    )["MessageId"]


def listed_ids(listing: str) -> list[str]:
    """The message ids in a listing: the lines that are not indented details."""
    lines = listing.splitlines()[1:]
    return [line for line in lines if line and not line.startswith(" ")]


def test_list_shows_each_letter_with_its_reason_and_leaves_it_there(service_queues):
    customer_id = uuid.uuid4()
    envelope = renamed(customer_id, version=2, name="Ada King")
    message_id = send_dead_letter(
        service_queues, body(envelope), "version gap never closed (version 2)"
    )
    send_dead_letter(service_queues, "not json", "invalid event: not JSON")

    listing = dead_letters("list")

    assert listing.splitlines()[0] == (
        f"2 dead letter(s) in {service_queues.dead_letter_queue_url}"
    )
    assert message_id in listed_ids(listing)
    assert "    event_type: CustomerRenamed" in listing
    assert f"    aggregate: Customer {customer_id} v2" in listing
    assert "    failure_reason: version gap never closed (version 2)" in listing
    assert "    failure_reason: invalid event: not JSON" in listing
    assert "    receive_count: 0" in listing
    # Nothing consumed: both are visible again at once.
    assert service_queues.counts(service_queues.dead_letter_queue_url) == (2, 0)
    assert "    receive_count: 1" in dead_letters("list")


def test_a_poisoned_event_is_redriven_after_the_fix_and_applied(
    service_queues, no_backoff
):
    inbox = service_queues
    customer_id = uuid.uuid4()
    event = registered(customer_id)
    inbox.send(body(event), attributes={"event_type": event.event_type})

    def handler_bug(envelope):
        raise RuntimeError("the replica handler has a bug")

    consume_until_dead_lettered(
        inbox, handler_bug, event_type=EventType.CUSTOMER_REGISTERED
    )
    assert not CustomerReplica.objects.filter(id=customer_id).exists()

    listing = dead_letters("list")
    [message_id] = listed_ids(listing)
    assert "    event_type: CustomerRegistered" in listing
    assert "handler failed: RuntimeError: the replica handler has a bug" in listing

    # The fix is deployed: the consumer runs the real handlers only.
    redriven = dead_letters("redrive", "--id", message_id)

    assert f"redriven {message_id}  CustomerRegistered" in redriven
    assert inbox.counts(inbox.dead_letter_queue_url) == (0, 0)
    [resent] = inbox.sqs.receive_message(
        QueueUrl=inbox.queue_url,
        VisibilityTimeout=0,
        WaitTimeSeconds=1,
        MessageAttributeNames=["All"],
    )["Messages"]
    assert resent["Body"] == body(event)
    assert set(resent["MessageAttributes"]) == {"event_type"}

    fixed = order_consumer(inbox)
    poll_until_counted(fixed, Outcome.APPLIED, 1, what="the redriven event applied")
    assert CustomerReplica.objects.get(id=customer_id).name == "Ada Lovelace"
    assert inbox.is_drained()


def test_redrive_all_sends_every_letter_back(service_queues):
    inbox = service_queues
    for name in ("Ada", "Grace", "Edsger"):
        send_dead_letter(
            inbox, body(registered(uuid.uuid4(), name=name)), "handler failed"
        )

    out = dead_letters("redrive", "--all")

    assert "3 message(s) sent back" in out
    assert inbox.counts(inbox.dead_letter_queue_url) == (0, 0)
    assert inbox.counts()[0] == 3


def test_redrive_of_an_unknown_id_moves_nothing(service_queues):
    inbox = service_queues
    known = send_dead_letter(inbox, body(registered(uuid.uuid4())), "handler failed")

    with pytest.raises(CommandError, match="not in the dead-letter queue"):
        dead_letters("redrive", "--id", known, "--id", "no-such-message")

    assert inbox.counts(inbox.dead_letter_queue_url) == (1, 0)
    assert inbox.counts() == (0, 0)


def test_the_read_side_needs_approach_5(service_queues):
    with pytest.raises(CommandError, match="has no read side"):
        dead_letters("list", "--side", "read")


def test_under_kinesis_letters_are_listed_and_a_redrive_is_refused(
    moto_server, settings
):
    """The mappings' on-failure queue holds the letters; there is no inbox."""
    settings.AWS_ENDPOINT_URL = moto_server.endpoint_url
    settings.EVENT_TOPOLOGY_PREFIX = f"k{uuid.uuid4().hex[:8]}-"
    settings.EVENT_DELIVERY = "kinesis"
    settings.EVENT_FIFO = False
    messaging._routes.clear()
    try:
        route = messaging.routes().consumer("order")
        assert route.queue_url is None
        sqs = messaging.sqs_client()
        letter = sqs.send_message(
            QueueUrl=route.dead_letter_queue_url,
            MessageBody=body(registered(uuid.uuid4())),
            MessageAttributes={
                FAILURE_REASON: {"DataType": "String", "StringValue": "bad"}
            },
        )["MessageId"]

        assert letter in listed_ids(dead_letters("list"))
        with pytest.raises(CommandError, match="no inbox to send letters back to"):
            dead_letters("redrive", "--all")
        assert letter in listed_ids(dead_letters("list"))
    finally:
        messaging._routes.clear()

"""A forged ``OrderPlaced`` on the read side's queue, put there by an attacker.

Put straight on the order service's read-side inbox (moto, over HTTP) and
read by the real ``EventConsumer`` with the real projections into the read
database, as ``consume_events --side read`` runs it. Before events were
signed it showed up in the customer's own query API. What a learner should
see proven now: every forgery of it (``shared_events.testing.signing``) is
dead-lettered with its reason, the customer's query API lists no such order,
and the order service's own ``OrderPlaced`` is listed as usual.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

import pytest

from order_service.order_views.projections import PROJECTION_HANDLERS
from service_kit.testing.tokens import customer_jwt_client
from shared_events.consume import EventConsumer, Outcome
from shared_events.consume import consumer as consumer_module
from shared_events.testing import projection_events as event
from shared_events.testing.signing import forgeries, signed
from shared_events.transport import DeadLetterQueue, messaging

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "read"])

LIST_URL = "/api/query/orders/"


@pytest.fixture
def projector(moto_server, settings, monkeypatch) -> EventConsumer:
    """The read side's consumer on its own inbox, under a topology of its own."""
    settings.AWS_ENDPOINT_URL = moto_server.endpoint_url
    settings.EVENT_TOPOLOGY_PREFIX = f"fe-{uuid.uuid4().hex[:8]}-"
    settings.EVENT_DELIVERY = "sns"
    settings.EVENT_FIFO = False
    messaging.bootstrap_topology()
    monkeypatch.setattr(consumer_module, "retry_delay", lambda receive_count: 0)
    consumer = EventConsumer(
        settings=replace(
            messaging.consumer_settings("order-read"),
            database=settings.READ_DATABASE,
            max_receive_count=2,
            wait_time_seconds=1,
        ),
        sqs=messaging.sqs_client(),
        handlers=PROJECTION_HANDLERS,
    )
    yield consumer
    moto_server.reset()


def send(consumer: EventConsumer, text: str) -> None:
    consumer.sqs.send_message(QueueUrl=consumer.settings.queue_url, MessageBody=text)


def poll_until(consumer: EventConsumer, outcome: Outcome, count: int) -> None:
    deadline = time.monotonic() + 30
    while consumer.stats.counts.get(outcome, 0) < count:
        assert time.monotonic() < deadline, str(consumer.stats)
        consumer.poll_once()


def listed(customer_id: uuid.UUID) -> list[str]:
    response = customer_jwt_client(customer_id).get(
        LIST_URL, {"customer_id": customer_id}
    )
    assert response.status_code == 200, response.json()
    return [item["order_id"] for item in response.json()["results"]]


def test_a_forged_order_placed_never_shows_in_the_customers_query_api(projector):
    ada, order_id = uuid.uuid4(), uuid.uuid4()
    send(projector, signed(event.registered(ada)))
    poll_until(projector, Outcome.APPLIED, 1)
    forged = forgeries(event.placed(order_id, ada, lines=[("BOOK-1", 1, "10.00")]))

    for forgery in forged:
        send(projector, forgery.body)
    poll_until(projector, Outcome.DEAD_LETTERED, len(forged))

    assert listed(ada) == []
    queue = DeadLetterQueue(
        sqs=projector.sqs,
        queue_url=projector.settings.dead_letter_queue_url,
        inbox_url=projector.settings.queue_url,
    )
    reasons = {
        letter.body: letter.failure_reason for letter in queue.hold_all(limit=20)
    }
    assert set(reasons) == {forgery.body for forgery in forged}
    for forgery in forged:
        assert reasons[forgery.body].startswith(forgery.reason), forgery.name

    send(projector, signed(event.placed(order_id, ada, lines=[("BOOK-1", 1, "10.00")])))
    poll_until(projector, Outcome.APPLIED, 2)
    assert listed(ada) == [str(order_id)]

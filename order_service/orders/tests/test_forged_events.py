"""Forged customer events on the order service's inbox, put there by an attacker.

Put straight on the order service's real inbox (moto, over HTTP) and read by
the real ``EventConsumer`` with the real handlers, as an attacker with
``sqs:SendMessage`` (or a misconfigured service) would. Before events were
signed, each of these took effect. What a learner should see proven now:

* a ``CustomerDeleted`` for a customer the customer service still has,
  forged every way (``shared_events.testing.signing.forgeries``) and also as
  a genuine deletion of another customer retargeted at her, cancels none of
  her orders and leaves her replica alone;
* a forged ``CustomerRegistered`` creates no customer, so an order for it is
  refused (the order service decides from its replica under event sourcing);
* each forgery is in the dead-letter queue with the reason it was refused,
  and the genuine events around them are applied as usual.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from order_service import bootstrap
from order_service.orders.customers import CustomerSnapshot
from order_service.orders.models import CustomerReplica, Order, OrderStatus
from order_service.orders.services import LineRequest, order_place
from order_service.orders.tests.consumer_support import (  # noqa: F401 (fixtures)
    Inbox,
    body,
    deleted,
    inbox_fixture,
    moto_server_fixture,
    no_backoff_fixture,
    order_consumer,
    poll_until,
    poll_until_counted,
    registered,
)
from service_kit.testing.wiring import wired_for_event_sourcing
from shared_events.consume import Outcome
from shared_events.errors import ApplicationError
from shared_events.events import canonical_json
from shared_events.testing.signing import Forgery, forgeries

pytestmark = pytest.mark.django_db(transaction=True)

LINE = LineRequest(sku="BOOK-1", quantity=1, unit_price=Decimal("10.00"))


def retargeted(genuine_text: str, victim: uuid.UUID) -> str:
    """A genuine, signed event of another customer, aimed at ``victim``."""
    data = json.loads(genuine_text)
    data["aggregate_id"] = data["payload"]["customer_id"] = str(victim)
    return canonical_json(data)


def dead_lettered(inbox: Inbox, consumer, forged: list[Forgery]) -> dict[str, str]:
    poll_until_counted(
        consumer, Outcome.DEAD_LETTERED, len(forged), what="every forgery refused"
    )
    letters = inbox.take_dead_letters(expected=len(forged))
    return {letter.body: letter.failure_reason for letter in letters}


def test_a_forged_customer_deleted_cancels_no_order(
    inbox: Inbox, customer_directory, no_backoff
):
    victim = uuid.uuid4()
    customer_directory.add(
        CustomerSnapshot(id=victim, name="Ada Lovelace", email="ada@example.com")
    )
    orders = [order_place(customer_id=victim, lines=[LINE]).order for _ in range(2)]
    mallory = uuid.uuid4()
    genuine = [registered(victim), registered(mallory), deleted(mallory, version=2)]
    for envelope in genuine:
        inbox.send(body(envelope))
    consumer = order_consumer(inbox)
    poll_until_counted(consumer, Outcome.APPLIED, 3, what="the genuine events")

    forged = [
        *forgeries(deleted(victim, version=2)),
        Forgery(
            "a genuine deletion of another customer, retargeted",
            retargeted(body(genuine[2]), victim),
            "untrusted event: signature: does not match",
        ),
    ]
    for forgery in forged:
        inbox.send(forgery.body)
    reasons = dead_lettered(inbox, consumer, forged)

    assert set(reasons) == {forgery.body for forgery in forged}
    for forgery in forged:
        assert reasons[forgery.body].startswith(forgery.reason), forgery.name
    replica = CustomerReplica.objects.get(id=victim)
    assert (replica.deleted, replica.version) == (False, 1)
    for order in orders:
        order.refresh_from_db()
        assert (order.status, order.version) == (OrderStatus.APPROVED, 2)
    assert CustomerReplica.objects.get(id=mallory).deleted  # the genuine one
    assert consumer.stats.counts.get(Outcome.APPLIED) == 3
    assert inbox.is_drained()

    # The customer service's own deletion still takes effect.
    inbox.send(body(deleted(victim, version=2)))
    poll_until(consumer, lambda: CustomerReplica.objects.get(id=victim).deleted)
    assert set(
        Order.objects.filter(customer_id=victim).values_list("status", flat=True)
    ) == {OrderStatus.CANCELLED}


def test_a_forged_customer_registered_makes_no_customer_to_order_for(
    inbox: Inbox, no_backoff
):
    stranger, genuine = uuid.uuid4(), uuid.uuid4()
    forged = forgeries(registered(stranger))
    for forgery in forged:
        inbox.send(forgery.body)
    inbox.send(body(registered(genuine)))
    consumer = order_consumer(inbox)

    reasons = dead_lettered(inbox, consumer, forged)

    for forgery in forged:
        assert reasons[forgery.body].startswith(forgery.reason), forgery.name
    poll_until(consumer, lambda: consumer.stats.counts.get(Outcome.APPLIED) == 1)
    assert list(CustomerReplica.objects.values_list("id", flat=True)) == [genuine]
    # Under event sourcing the order service asks its replica: the forged
    # customer is unknown, the genuine one is not.
    with wired_for_event_sourcing(bootstrap):
        with pytest.raises(ApplicationError, match=f"no customer with id {stranger}"):
            order_place(customer_id=stranger, lines=[LINE])
        placed = order_place(customer_id=genuine, lines=[LINE]).order
    assert placed.status == OrderStatus.PENDING  # until the customer service answers

"""The order service's event consumer, against a real moto server over HTTP.

Each test sends real messages to the order service's inbox (made by
``ensure_topology``, with its dead-letter queue and redrive policy) and lets the
real ``EventConsumer`` and the real handlers (the customer replica, cancelling a
deleted customer's orders) work on them. What a learner should see proven:

* at-least-once delivery, exactly-once effect: a message delivered three times,
  or redelivered after a crash between commit and delete, takes effect once;
* per-aggregate order: a batch is applied in version order, an event ahead of
  its predecessor is parked in the consumer's database until the gap closes
  (a backlog of one busy aggregate drains in one pass), and a gap that never
  closes ends in the dead-letter queue once its aggregate stood still;
* a message that cannot be processed is retried, then dead-lettered with the
  reason, and never stalls the messages behind it nor leaves half an effect.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connections

from order_service.orders.customers import CustomerSnapshot
from order_service.orders.handlers import EVENT_HANDLERS
from order_service.orders.models import CustomerReplica, Order, OrderStatus
from order_service.orders.services import LineRequest, order_place
from order_service.orders.tests.consumer_support import (  # noqa: F401 (fixtures)
    CONSUMER_NAME,
    MAX_RECEIVE_COUNT,
    Inbox,
    body,
    consume_until_dead_lettered,
    deleted,
    inbox_fixture,
    moto_server_fixture,
    no_backoff_fixture,
    order_consumer,
    poll_until,
    poll_until_counted,
    registered,
    renamed,
    tampered,
    with_extra_handler,
)
from shared_events.consume import Outcome, apply_event
from shared_events.events import (
    AggregateType,
    EventEnvelope,
    EventType,
    from_json,
    new_envelope,
)
from shared_events.models import AggregateCursor, HeldEvent, ProcessedEvent
from shared_events.transport import DeadLetter

pytestmark = pytest.mark.django_db(transaction=True)


def customer_with_orders(
    customer_directory, *, orders: int = 2
) -> tuple[uuid.UUID, list[Order]]:
    """A customer the order service knows, with open orders placed through it."""
    customer_id = uuid.uuid4()
    customer_directory.add(
        CustomerSnapshot(id=customer_id, name="Ada Lovelace", email="ada@example.com")
    )
    line = LineRequest(sku="BOOK-1", quantity=1, unit_price=Decimal("10.00"))
    placed = [
        order_place(customer_id=customer_id, lines=[line]).order for _ in range(orders)
    ]
    return customer_id, placed


def reasons_by_body(letters: list[DeadLetter]) -> dict[str, str]:
    return {letter.body: letter.failure_reason for letter in letters}


def test_a_message_delivered_three_times_takes_effect_once(
    inbox: Inbox, customer_directory
):
    customer_id, orders = customer_with_orders(customer_directory)
    handled: list[uuid.UUID] = []
    consumer = order_consumer(
        inbox, handlers=with_extra_handler(lambda e: handled.append(e.event_id))
    )
    events = [registered(customer_id), deleted(customer_id, version=2)]
    for envelope in events:
        inbox.send(body(envelope), times=3)  # the identical body, three times

    poll_until(consumer, lambda: inbox.counts() == (0, 0), what="an empty inbox")

    assert handled == [envelope.event_id for envelope in events]
    assert consumer.stats.counts == {"applied": 2, "duplicate": 4}
    for envelope in events:
        assert consumer.outcomes_of(body(envelope)) == [
            Outcome.APPLIED,
            Outcome.DUPLICATE,
            Outcome.DUPLICATE,
        ]
        assert (
            ProcessedEvent.objects.filter(
                consumer=CONSUMER_NAME, event_id=envelope.event_id
            ).count()
            == 1
        )
    replica = CustomerReplica.objects.get(id=customer_id)
    assert (replica.deleted, replica.version) == (True, 2)
    for order in orders:
        order.refresh_from_db()
        # placed and approved (the order service checks the credit limit
        # itself here) = version 2, cancelled once = version 3
        assert (order.status, order.version) == (OrderStatus.CANCELLED, 3)
    assert inbox.is_drained()  # all six messages deleted, none dead-lettered


def test_poison_messages_are_dead_lettered_with_the_reason_without_stalling_the_rest(
    inbox: Inbox, no_backoff
):
    order_placed = new_envelope(
        event_type=EventType.ORDER_PLACED,
        aggregate_type=AggregateType.ORDER,
        aggregate_id=uuid.uuid4(),
        aggregate_version=1,
        producer="order",
        payload={
            "order_id": str(uuid.uuid4()),
            "customer_id": str(uuid.uuid4()),
            "lines": [{"sku": "BOOK-1", "quantity": 1, "unit_price": "10.00"}],
            "total": "10.00",
        },
    )

    def negative_quantity(data: dict) -> None:
        data["payload"]["lines"][0]["quantity"] = -1

    def unknown_type(data: dict) -> None:
        data["event_type"] = "CustomerVanished"

    def aggregate_id_not_a_uuid(data: dict) -> None:
        data["aggregate_id"] = "customer-42"  # the envelope schema allows it

    poison = {
        "not JSON": "{'this': 'is not JSON'",
        "invalid schema": tampered(order_placed, negative_quantity),
        "unknown type": tampered(registered(uuid.uuid4()), unknown_type),
        "aggregate id": tampered(registered(uuid.uuid4()), aggregate_id_not_a_uuid),
    }
    for name, text in poison.items():
        inbox.send(text, attributes={"sent_as": name})
    good = [registered(uuid.uuid4(), name=f"Customer {n}") for n in range(3)]
    for envelope in good:  # sent AFTER the poison
        inbox.send(body(envelope))
    consumer = order_consumer(inbox)

    poll_until_counted(
        consumer,
        Outcome.DEAD_LETTERED,
        len(poison),
        what="every poison message dead-lettered",
    )

    letters = inbox.take_dead_letters(expected=len(poison))
    reasons = reasons_by_body(letters)
    assert reasons.keys() == set(poison.values())
    assert reasons[poison["not JSON"]].startswith("invalid event: not JSON")
    assert reasons[poison["invalid schema"]] == (
        "invalid event: payload.lines[0].quantity: -1 is less than the minimum of 1"
    )
    assert reasons[poison["unknown type"]] == (
        "invalid event: event_type: unknown event type 'CustomerVanished'"
    )
    assert reasons[poison["aggregate id"]] == (
        "invalid event: aggregate_id: 'customer-42' is not a UUID"
    )
    # The dead letter keeps the message's own attributes beside the reason.
    sent_as = {letter.attributes["sent_as"]["StringValue"] for letter in letters}
    assert sent_as == set(poison)
    # Each poison message was received exactly max_receive_count times.
    for text in poison.values():
        assert consumer.outcomes_of(text) == [Outcome.RETRY] * (
            MAX_RECEIVE_COUNT - 1
        ) + [Outcome.DEAD_LETTERED]
    # The valid messages did not wait for the poison to be put aside.
    first_dead_letter = consumer.position(Outcome.DEAD_LETTERED)
    for envelope in good:
        assert consumer.outcomes_of(body(envelope)) == [Outcome.APPLIED]
        assert consumer.position(Outcome.APPLIED, body(envelope)) < first_dead_letter
    assert CustomerReplica.objects.filter(
        id__in=[uuid.UUID(e.aggregate_id) for e in good]
    ).count() == len(good)
    assert not ProcessedEvent.objects.exclude(
        event_id__in=[e.event_id for e in good]
    ).exists()
    assert inbox.is_drained()


def test_an_event_ahead_of_its_predecessor_is_held_until_the_gap_closes(
    inbox: Inbox,
):
    customer_id = uuid.uuid4()
    v1 = registered(customer_id, name="Ada Byron")
    v2 = renamed(customer_id, version=2, name="Ada King")
    v3 = renamed(customer_id, version=3, name="Ada Lovelace")
    for envelope in (v1, v3):  # 3 overtakes 2
        inbox.send(body(envelope))
    consumer = order_consumer(inbox)

    poll_until_counted(consumer, Outcome.HELD, 1, what="3 held")

    assert consumer.outcomes_of(body(v3)) == [Outcome.HELD]
    replica = CustomerReplica.objects.get(id=customer_id)
    assert (replica.name, replica.version) == ("Ada Byron", 1)  # 3 not applied
    # Parked in the consumer's database, its message gone from the queue.
    [held] = HeldEvent.objects.filter(consumer=CONSUMER_NAME)
    assert (held.event_id, held.aggregate_version) == (v3.event_id, 3)
    assert held.body == body(v3)
    assert inbox.counts() == (0, 0)

    inbox.send(body(v2))
    poll_until(consumer, lambda: not HeldEvent.objects.exists(), what="3 released")

    # 2 came in and was applied, then 3 from the parking, in the same poll.
    assert consumer.outcomes_of(body(v2)) == [Outcome.APPLIED]
    assert consumer.stats.counts == {"applied": 3, "held": 1}
    assert list(
        ProcessedEvent.objects.order_by("id").values_list(
            "aggregate_version", flat=True
        )
    ) == [1, 2, 3]
    # The same state as applying 1, 2, 3 in order: 3's name, 1's other fields.
    replica.refresh_from_db()
    assert (
        replica.name,
        replica.email,
        replica.address,
        replica.version,
        replica.deleted,
    ) == ("Ada Lovelace", "ada@example.com", "12 St James's Square, London", 3, False)
    assert (
        AggregateCursor.objects.get(
            consumer=CONSUMER_NAME, aggregate_id=customer_id
        ).version
        == 3
    )
    assert inbox.is_drained()


def test_events_of_one_batch_are_applied_in_version_order(inbox: Inbox):
    customer_id = uuid.uuid4()
    v1 = registered(customer_id, name="Ada Byron")
    v2 = renamed(customer_id, version=2, name="Ada King")
    v3 = renamed(customer_id, version=3, name="Ada Lovelace")
    for envelope in (v3, v1, v2):
        inbox.send(body(envelope))
    consumer = order_consumer(inbox)

    poll_until_counted(consumer, Outcome.APPLIED, 3, what="all three applied")

    assert Outcome.HELD.value not in consumer.stats.counts
    assert CustomerReplica.objects.get(id=customer_id).name == "Ada Lovelace"
    assert inbox.is_drained()


def test_a_backlog_of_one_busy_aggregate_drains_in_one_pass_with_nothing_dead(
    inbox: Inbox,
):
    """The read side after an outage: a hundred versions of one customer in an
    unordered queue. Held on the queue, their receives ran out long before
    the gap closed and they were dead-lettered; parked, each is received once."""
    customer_id = uuid.uuid4()
    versions = [registered(customer_id, name="Ada 1")] + [
        renamed(customer_id, version=n, name=f"Ada {n}") for n in range(2, 101)
    ]
    for envelope in reversed(versions):  # the worst order: newest first
        inbox.send(body(envelope))
    consumer = order_consumer(inbox)

    poll_until(
        consumer,
        lambda: consumer.stats.counts.get("applied") == 100,
        timeout=60,
        what="all hundred applied",
    )

    replica = CustomerReplica.objects.get(id=customer_id)
    assert (replica.name, replica.version) == ("Ada 100", 100)
    assert list(
        ProcessedEvent.objects.order_by("id").values_list(
            "aggregate_version", flat=True
        )
    ) == list(range(1, 101))
    assert not HeldEvent.objects.exists()
    # Each message received once: none came back, none went to the DLQ.
    assert len(consumer.log) == 100
    assert {entry.receive_count for entry in consumer.log} == {1}
    assert inbox.is_drained()


def test_a_gap_that_never_closes_ends_in_the_dead_letter_queue(inbox: Inbox):
    customer_id = uuid.uuid4()
    v1 = registered(customer_id, name="Ada Byron")
    v3 = renamed(customer_id, version=3, name="Ada Lovelace")  # v2 is lost for good
    v4 = renamed(customer_id, version=4, name="Ada King")
    for envelope in (v1, v3, v4):
        inbox.send(body(envelope), attributes={"trace": "kept"})
    consumer = order_consumer(inbox, gap_patience_seconds=2)

    poll_until_counted(consumer, Outcome.HELD, 2, what="3 and 4 held")
    assert consumer.stats.counts.get("dead_lettered") is None  # within patience
    poll_until_counted(consumer, Outcome.DEAD_LETTERED, 2, what="the gap given up")

    assert consumer.outcomes_of(body(v1)) == [Outcome.APPLIED]
    assert consumer.outcomes_of(body(v3)) == [Outcome.HELD]
    letters = inbox.take_dead_letters(expected=2)
    assert reasons_by_body(letters) == {
        body(
            v3
        ): f"CustomerRenamed {v3.event_id}: version gap never closed (version 3)",
        body(
            v4
        ): f"CustomerRenamed {v4.event_id}: version gap never closed (version 4)",
    }
    # Exactly as the message arrived, its own attributes kept.
    assert {
        letter.message["MessageAttributes"]["trace"]["StringValue"]
        for letter in letters
    } == {"kept"}
    replica = CustomerReplica.objects.get(id=customer_id)
    assert (replica.name, replica.version) == ("Ada Byron", 1)
    assert AggregateCursor.objects.get(aggregate_id=customer_id).version == 1
    assert not HeldEvent.objects.exists()
    assert inbox.is_drained()


def test_a_gap_is_given_up_only_once_its_aggregate_stood_still(inbox: Inbox):
    """Patience runs from the cursor's last move: a gap whose aggregate keeps
    advancing is not dead-lettered however long it has been parked."""
    customer_id = uuid.uuid4()
    v1 = registered(customer_id, name="Ada Byron")
    v2 = renamed(customer_id, version=2, name="Ada King")
    v4 = renamed(customer_id, version=4, name="Ada Lovelace")
    v3 = renamed(customer_id, version=3, name="Ada L.")
    inbox.send(body(v1))
    inbox.send(body(v4))
    consumer = order_consumer(inbox, gap_patience_seconds=5)
    poll_until_counted(consumer, Outcome.HELD, 1, what="4 held")
    time.sleep(3.5)
    inbox.send(body(v2))  # the cursor moves: the patience starts again
    poll_until_counted(consumer, Outcome.APPLIED, 2, what="2 applied")
    time.sleep(2.5)  # over 5 s since 4 was parked, under 5 s since 2 applied

    assert consumer.held.sweep() == []
    assert HeldEvent.objects.get().aggregate_version == 4

    inbox.send(body(v3))
    poll_until(consumer, lambda: not HeldEvent.objects.exists(), what="4 released")

    assert CustomerReplica.objects.get(id=customer_id).version == 4
    assert inbox.is_drained()


class WarehouseDown(RuntimeError):
    pass


def raise_an_error(envelope: EventEnvelope) -> None:
    raise WarehouseDown("the warehouse did not answer")


def break_a_database_constraint(envelope: EventEnvelope) -> None:
    Order.objects.create(customer_id=uuid.uuid4(), total=Decimal("-1"))


@pytest.mark.parametrize(
    ("failing_handler", "reason"),
    [
        (raise_an_error, "WarehouseDown: the warehouse did not answer"),
        (break_a_database_constraint, "IntegrityError: "),
    ],
    ids=["exception", "database constraint"],
)
def test_a_failing_handler_is_retried_then_dead_lettered_leaving_no_partial_effect(
    inbox: Inbox, customer_directory, no_backoff, failing_handler, reason
):
    customer_id, orders = customer_with_orders(customer_directory, orders=1)
    apply_event(
        consumer=CONSUMER_NAME,
        envelope=registered(customer_id),
        handlers=EVENT_HANDLERS[EventType.CUSTOMER_REGISTERED],
    )
    bad = deleted(customer_id, version=2)
    inbox.send(body(bad))
    other_customer = registered(uuid.uuid4(), name="Grace Hopper")
    inbox.send(body(other_customer))
    # The real handlers run first (replica marked deleted, orders cancelled),
    # then the failing one: all of it must roll back together.
    consumer = consume_until_dead_lettered(
        inbox, failing_handler, event_type=EventType.CUSTOMER_DELETED
    )

    assert consumer.outcomes_of(body(bad)) == [Outcome.RETRY] * (
        MAX_RECEIVE_COUNT - 1
    ) + [Outcome.DEAD_LETTERED]
    [letter] = inbox.take_dead_letters(expected=1)
    assert letter.body == body(bad)
    failure = letter.failure_reason
    assert failure.startswith(f"CustomerDeleted {bad.event_id}: handler failed: ")
    assert reason in failure
    # Another aggregate's event flowed meanwhile.
    assert consumer.outcomes_of(body(other_customer)) == [Outcome.APPLIED]
    assert consumer.position(Outcome.APPLIED, body(other_customer)) < consumer.position(
        Outcome.DEAD_LETTERED
    )
    assert CustomerReplica.objects.filter(id=other_customer.aggregate_id).exists()
    # No partial effect: the replica, the orders, the processed-event record and
    # the cursor are all as they were before the failing event.
    replica = CustomerReplica.objects.get(id=customer_id)
    assert (replica.deleted, replica.version) == (False, 1)
    orders[0].refresh_from_db()
    assert (orders[0].status, orders[0].version) == (OrderStatus.APPROVED, 2)
    assert not ProcessedEvent.objects.filter(event_id=bad.event_id).exists()
    assert AggregateCursor.objects.get(aggregate_id=customer_id).version == 1
    assert not Order.objects.filter(total__lt=0).exists()
    assert inbox.is_drained()


def test_a_crash_between_commit_and_delete_makes_the_redelivery_a_duplicate(
    inbox: Inbox, customer_directory
):
    customer_id, orders = customer_with_orders(customer_directory, orders=1)
    handled: list[uuid.UUID] = []
    handlers = with_extra_handler(lambda e: handled.append(e.event_id))
    first_event = registered(customer_id)
    apply_event(
        consumer=CONSUMER_NAME,
        envelope=first_event,
        handlers=handlers[EventType.CUSTOMER_REGISTERED],
    )
    event = deleted(customer_id, version=2)
    inbox.send(body(event))
    consumer = order_consumer(inbox, handlers=handlers, visibility_timeout=1)

    # The first delivery: applied and committed, then the process "dies" before
    # it deletes the message.
    [message] = consumer.receive()
    received = from_json(message["Body"])
    first = apply_event(
        consumer=CONSUMER_NAME,
        envelope=received,
        handlers=handlers[received.event_type],
    )
    assert first is Outcome.APPLIED
    assert sum(inbox.counts()) == 1  # still on the queue

    # The visibility timeout passes and the message comes back.
    poll_until(consumer, lambda: inbox.counts() == (0, 0), what="the redelivery")

    assert [(entry.receive_count, entry.outcome) for entry in consumer.log] == [
        (2, Outcome.DUPLICATE)
    ]
    assert handled == [first_event.event_id, event.event_id]  # each once
    assert ProcessedEvent.objects.filter(event_id=event.event_id).count() == 1
    orders[0].refresh_from_db()
    assert (orders[0].status, orders[0].version) == (OrderStatus.CANCELLED, 3)
    assert CustomerReplica.objects.get(id=customer_id).version == 2
    assert inbox.is_drained()


def _batches_of_a_trickle(inbox: Inbox, *, window: float) -> list[int]:
    """The batch sizes a consumer with ``window`` receives while one event
    arrives every 50 ms for 1.5 s."""
    consumer = order_consumer(inbox)
    consumer.settings = replace(consumer.settings, batch_window_seconds=window)
    sizes: list[int] = []
    receive = consumer.receive

    def counted_receive() -> list[dict]:
        messages = receive()
        if messages:
            sizes.append(len(messages))
        return messages

    consumer.receive = counted_receive
    stop = threading.Event()

    def run() -> None:
        try:
            consumer.run(stop)
        finally:
            connections.close_all()  # this thread's own connection

    worker = threading.Thread(target=run)
    worker.start()
    try:
        for _ in range(30):
            inbox.send(body(registered(uuid.uuid4())))
            time.sleep(0.05)
        poll_deadline = time.monotonic() + 15
        while sum(sizes) < 30 and time.monotonic() < poll_deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert sum(sizes) == 30
    return sizes


def test_a_batch_window_gathers_a_trickle_into_fuller_batches(inbox: Inbox):
    # Without a window each receive answers as soon as one message is there.
    at_once = _batches_of_a_trickle(inbox, window=0.0)
    windowed = _batches_of_a_trickle(inbox, window=0.3)

    # Mostly one or two messages a receive (a busy machine gathers a few
    # more: the consumer takes longer over each batch).
    assert len(at_once) >= 10
    # About one receive per window while the trickle lasts: 1.5 s / 0.3 s.
    assert len(windowed) <= 10
    assert len(windowed) < len(at_once)
    assert max(windowed) >= 3
    assert inbox.is_drained()

"""The transactional outbox and its relay, on real PostgreSQL and a real moto broker.

What reached the broker is counted by receiving from the order service's inbox,
which is subscribed to the customer service's SNS topic: an event id received once
was published once.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
from django.db import transaction
from django.utils import timezone

from shared_events.events import MAX_ENVELOPE_BYTES, EventTooLarge
from shared_events.events.tests.examples import ORDER_ID, example_envelope
from shared_events.models import OutboxMessage
from shared_events.outbox.relay import (
    MAX_BACKOFF_SECONDS,
    RelayResult,
    backoff_seconds,
    relay_outbox,
)
from shared_events.outbox.relay import message_of as relay_message
from shared_events.outbox.store import outbox_pending_count, outbox_prune
from shared_events.outbox.tests.relay_support import (
    Broker,
    OpenTransaction,
    QueueDrain,
    append_customer_events,
    broker_on,
    customer_registered,
    fresh_broker,
    in_own_connection,
    outbox_rows,
    relay_until_done,
)
from shared_events.transport import (
    AwsSettings,
    EventPublisher,
    OutgoingMessage,
    PublishResult,
    RecordingPublisher,
)
from shared_events.write_side import outbox_append
from stack.moto_server import MotoServer, start_moto_server


@pytest.fixture
def broker(moto_server: MotoServer) -> Iterator[Broker]:
    yield from fresh_broker(moto_server)


class ClaimRecordingPublisher(EventPublisher):
    """Passes every batch on to the real publisher, noting which ids it was given."""

    def __init__(self, inner: EventPublisher) -> None:
        self.inner = inner
        self.ids: list[str] = []

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> PublishResult:
        self.ids.extend(message.id for message in messages)
        return self.inner.publish_batch(messages)


# --- out-of-order commits -------------------------------------------------------


def commit_out_of_order(relay: Callable[[], object]) -> tuple[OpenTransaction, ...]:
    """T1 inserts first and stays open; T2 inserts, commits; relay; T1 commits; relay.

    Each transaction runs on a connection of its own (a thread each); the relay
    runs on the test's connection. Returns (T1, T2).
    """
    early = OpenTransaction([customer_registered(1)]).begin()
    late = OpenTransaction([customer_registered(2)]).begin()
    # The premise of the test: the row that commits last holds the lower id.
    assert early.row_ids[0] < late.row_ids[0]
    late.commit()
    relay()
    early.commit()
    relay()
    return early, late


@pytest.mark.django_db(transaction=True)
def test_a_row_that_commits_after_a_later_id_is_still_published_exactly_once(
    broker: Broker,
) -> None:
    """The acceptance test: out-of-order commit loses nothing and repeats nothing.

    T1 takes its id first but commits last. When the relay first runs it can only
    see T2's row, and publishes it. A relay that then remembered "the last id I
    published" and asked for ``id > last`` would never look at T1's row again: its
    id is below the mark. Notice the assertion ``early.row_ids[0] <
    late.row_ids[0]``: it is what makes such a relay fail here (the control test
    below runs one). The real relay asks for every *unpublished* row instead.
    """
    publisher = broker.publisher()
    runs: list[RelayResult] = []
    with QueueDrain(broker.sqs(), broker.queue_url) as drain:
        early, late = commit_out_of_order(
            lambda: runs.append(relay_outbox(publisher=publisher))
        )
        drain.wait_for(early.event_ids + late.event_ids, timeout=10)
        received = drain.settle()

    assert [run.published for run in runs] == [1, 1]
    assert received == Counter({early.event_ids[0]: 1, late.event_ids[0]: 1})
    rows = outbox_rows()
    assert set(rows) == {early.event_ids[0], late.event_ids[0]}
    for row in rows.values():
        assert row.published_at is not None
        assert row.attempts == 1
        assert row.last_error == ""


@pytest.mark.django_db(transaction=True)
def test_control_a_high_water_mark_relay_loses_that_row() -> None:
    """The same scenario with the relay done wrong: T1's event is never published.

    This is why the test above can tell a correct relay from a high-water mark.
    Only the claiming is done wrong: each row becomes a message as the real
    relay makes it.
    """
    publisher = RecordingPublisher()
    last_seen = 0

    def high_water_mark_relay() -> None:
        nonlocal last_seen
        rows = list(OutboxMessage.objects.filter(id__gt=last_seen).order_by("id"))
        if rows:
            publisher.publish_batch([relay_message(row) for row in rows])
            last_seen = rows[-1].id

    early, late = commit_out_of_order(high_water_mark_relay)

    published = [message.id for message in publisher.published]
    assert published == late.event_ids
    assert early.event_ids[0] not in published


# --- several relays at once -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_claim_disjoint_rows_and_publish_each_once(
    broker: Broker,
) -> None:
    """Two relays, each on its own connection, over one outbox of 300 rows.

    ``SELECT ... FOR UPDATE SKIP LOCKED``: a relay skips the rows the other has
    claimed instead of waiting for them or publishing them too.
    """
    event_ids = append_customer_events(300)
    publishers = [ClaimRecordingPublisher(broker.publisher()) for _ in range(2)]
    start = Barrier(2)

    def relay(publisher: EventPublisher) -> RelayResult:
        start.wait(timeout=10)
        return relay_outbox(publisher=publisher, batch_size=10)

    with (
        QueueDrain(broker.sqs(), broker.queue_url) as drain,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        futures = [
            pool.submit(in_own_connection(lambda p=p: relay(p))) for p in publishers
        ]
        results = [future.result(timeout=60) for future in futures]
        drain.wait_for(event_ids, timeout=30)
        received = drain.settle()

    first, second = (set(publisher.ids) for publisher in publishers)
    print(f"relay A published {len(first)}, relay B {len(second)}")
    assert first and second, "both relays should have had a share of the work"
    assert not first & second
    assert first | second == set(event_ids)
    assert sum(result.published for result in results) == 300
    assert received == Counter(dict.fromkeys(event_ids, 1))
    assert outbox_pending_count() == 0
    assert {row.attempts for row in outbox_rows().values()} == {1}


# --- partial failure and backoff ------------------------------------------------


@pytest.mark.django_db
def test_only_accepted_rows_are_marked_and_the_rest_retry_after_a_backoff() -> None:
    event_ids = append_customer_events(6)
    reasons = {
        event_ids[1]: "InternalError: please retry",
        event_ids[4]: "Throttling: rate exceeded",
    }
    publisher = RecordingPublisher(failures=reasons)

    before = timezone.now()
    result = relay_outbox(publisher=publisher)
    after = timezone.now()

    assert result == RelayResult(claimed=6, published=4, failed=2, batches=1)
    rows = outbox_rows()
    for event_id in event_ids:
        row = rows[event_id]
        assert row.attempts == 1
        if event_id in reasons:
            assert row.published_at is None
            assert row.last_error == reasons[event_id]
            # First retry: 1 second, with jitter down to half of it.
            assert before + timedelta(seconds=0.5) <= row.next_attempt_at
            assert row.next_attempt_at <= after + timedelta(seconds=1)
        else:
            assert row.published_at is not None
            assert row.last_error == ""

    # Not due yet: a run before the backoff has passed claims nothing. (On a
    # machine stalled for half a second they could be due already; then the
    # claim is right and there is nothing to check.)
    due_at = min(rows[event_id].next_attempt_at for event_id in reasons)
    early = relay_outbox(publisher=publisher)
    if timezone.now() < due_at:
        assert early.claimed == 0

    # The broker recovers; once the backoff has passed a run publishes them.
    publisher.failures.clear()
    relay_until_done(publisher, timeout=5)
    published = Counter(message.id for message in publisher.published)
    assert published == Counter(dict.fromkeys(event_ids, 1))
    rows = outbox_rows()
    for event_id in reasons:
        assert rows[event_id].published_at is not None
        assert rows[event_id].attempts == 2
        assert rows[event_id].last_error == ""


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    for attempts in range(1, 12):
        base = min(2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
        for _ in range(20):
            assert base / 2 <= backoff_seconds(attempts) <= base
    assert backoff_seconds(100) <= MAX_BACKOFF_SECONDS


# --- the broker down ------------------------------------------------------------


@pytest.mark.django_db
def test_while_the_broker_is_down_nothing_is_marked_or_lost() -> None:
    """A real outage: the moto server process is stopped, then started again.

    One attempt per call (no client-side retries) keeps the test fast; with the
    default three the relay only takes longer to give up.
    """
    server = start_moto_server()
    try:
        settings = AwsSettings(
            endpoint_url=server.endpoint_url, max_attempts=1, connect_timeout=1
        )
        broker = broker_on(settings)
        publisher = broker.publisher()
        event_ids = append_customer_events(25)

        server.stop()
        before = timezone.now()
        down = relay_outbox(publisher=publisher)

        assert down == RelayResult(claimed=25, published=0, failed=25, batches=1)
        rows = outbox_rows()
        assert set(rows) == set(event_ids)
        for row in rows.values():
            assert row.published_at is None
            assert row.attempts == 1
            assert row.last_error
            assert row.next_attempt_at >= before + timedelta(seconds=0.5)
        print(f"while down: {rows[event_ids[0]].last_error}")

        # The broker comes back on the same port. moto forgot everything, so the
        # topology is created again: same names, so the same topic ARN.
        server = start_moto_server(port=server.port)
        assert broker_on(settings, prefix=broker.prefix) == broker
        with QueueDrain(broker.sqs(), broker.queue_url) as drain:
            relay_until_done(publisher, timeout=10)
            drain.wait_for(event_ids, timeout=10)
            received = drain.settle()
    finally:
        server.stop()

    assert received == Counter(dict.fromkeys(event_ids, 1))
    assert {row.attempts for row in outbox_rows().values()} == {2}


# --- pruning --------------------------------------------------------------------


@pytest.mark.django_db
def test_prune_deletes_only_published_rows_older_than_the_retention() -> None:
    retention = timedelta(days=7)
    now = timezone.now()
    event_ids = append_customer_events(4)
    old_published, recent_published, old_pending, new_pending = event_ids
    OutboxMessage.objects.filter(event_id=old_published).update(
        published_at=now - retention - timedelta(minutes=1),
        created_at=now - timedelta(days=30),
    )
    # Created long ago but published recently: the retention counts from
    # publication, so a consumer's replay window is not cut short.
    OutboxMessage.objects.filter(event_id=recent_published).update(
        published_at=now - retention + timedelta(minutes=1),
        created_at=now - timedelta(days=30),
    )
    # Never published, however old: pruning must not lose it.
    OutboxMessage.objects.filter(event_id=old_pending).update(
        created_at=now - timedelta(days=30), next_attempt_at=now - timedelta(days=30)
    )

    assert outbox_prune(retention=retention) == 1

    assert set(outbox_rows()) == {recent_published, old_pending, new_pending}


# --- refused at write time ------------------------------------------------------


@pytest.mark.django_db
def test_an_event_over_the_size_cap_is_refused_and_nothing_is_written() -> None:
    lines = [
        {"sku": f"SKU-{number:06d}", "quantity": 1, "unit_price": "1.00"}
        for number in range(5_000)
    ]
    customer = customer_registered()
    too_large = example_envelope(
        "OrderPlaced",
        payload={
            "order_id": ORDER_ID,
            "customer_id": customer.aggregate_id,
            "lines": lines,
            "total": "5000.00",
        },
    )

    with pytest.raises(EventTooLarge) as refused:
        outbox_append(envelopes=[customer, too_large])

    assert refused.value.size > MAX_ENVELOPE_BYTES
    assert refused.value.limit == MAX_ENVELOPE_BYTES
    # Not even the valid event that came first: the batch is refused as a whole.
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_a_later_version_waits_while_an_earlier_one_is_in_backoff() -> None:
    """A stream keeps what it is given in that order for good: a later version
    published while an earlier one waits out a failure would overtake it."""
    customer = uuid.uuid4()
    first = example_envelope(
        "CustomerRegistered", aggregate_id=str(customer), aggregate_version=1
    )
    with transaction.atomic():
        outbox_append(envelopes=[first])
    publisher = RecordingPublisher(failures={str(first.event_id): "Throttling"})
    assert relay_outbox(publisher=publisher).failed == 1

    second = example_envelope(
        "CustomerRenamed", aggregate_id=str(customer), aggregate_version=2
    )
    other = example_envelope("CustomerRegistered", aggregate_id=str(uuid.uuid4()))
    with transaction.atomic():
        outbox_append(envelopes=[second, other])
    publisher.failures.clear()
    early = relay_outbox(publisher=publisher)
    if timezone.now() < outbox_rows()[str(first.event_id)].next_attempt_at:
        # The first version is still in backoff: only the other aggregate goes.
        assert [m.id for m in publisher.published] == [str(other.event_id)]
        assert early.claimed == 1

    relay_until_done(publisher, timeout=5)
    mine = [m.id for m in publisher.published if m.group_id == str(customer)]
    assert mine == [str(first.event_id), str(second.event_id)]

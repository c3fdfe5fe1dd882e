"""The DynamoDB event store as a service's write model: one contract, both services.

The DynamoDB variant of ``event_store_contract``, written once and subclassed
by each event-sourced service (``customers/tests/test_dynamodb_event_store.py``,
``orders/tests/test_dynamodb_event_store.py``), against a real moto server
over HTTP and real PostgreSQL. What a learner should see, whatever the
aggregate:

- each command is ONE item of the event table, holding its envelopes, and
  nothing goes to PostgreSQL's event store or outbox;
- the state row is the fold of the items, and the repository, the as-of
  read and the history API read the items, not the row;
- a stale writer is refused by the conditional ``PutItem`` (409), and its
  state row rolls back with it; two real writers race and one wins;
- a throttled ``PutItem`` is a 503 that says why, with nothing committed;
- a commit whose PostgreSQL transaction never committed (the crash window)
  leaves the row behind; the next save heals it;
- the table's stream carries one INSERT per commit, and the service's
  ``publish_committed`` function publishes it to the subscribers' inboxes.

A subclass runs under ``pytest.mark.django_db`` with the service's
``event_sourcing`` fixture; this class switches ``EVENT_STORE`` to dynamodb,
on a moto server of its own and a topology prefix per test.
"""

from __future__ import annotations

import abc
import importlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import pytest
from django.db import OperationalError, connection, models, transaction
from django.urls import reverse

from shared_events.approaches import Approach
from shared_events.events import from_json
from shared_events.models import OutboxMessage, StoredEvent
from shared_events.testing.dynamodb_tables import (
    THROTTLED,
    ThrottledPutItem,
    lambda_event,
    stream_arn,
    stream_records,
    table_items,
)
from shared_events.testing.queues import delete_received
from shared_events.transport import client, messaging
from shared_events.write_side import (
    Aggregate,
    ConcurrencyConflict,
    EventStoreUnavailable,
    envelopes_for,
)
from shared_events.write_side.dynamodb import (
    DynamoDBEventSourcedRepository,
    DynamoDBEventStoreHistory,
    commit_of,
)


class Crash(Exception):
    """Raised inside a transaction after the commit: the process "dies" there."""


def event_types(item: dict) -> list[str]:
    return [from_json(value["S"]).event_type for value in item["events"]["L"]]


def waiting_for_a_lock() -> int:
    """Backends of this database waiting for a row lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database()"
        )
        return cursor.fetchone()[0]


def wait_until(condition: Callable[[], bool], *, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


class DynamoDBEventStoreContract(abc.ABC):
    """What the DynamoDB write store does for any aggregate; a subclass per service."""

    #: The service's name, as its envelopes give it (``producer``).
    producer: str
    #: The aggregate's name in its URLs (``<aggregate>-history``, ``<aggregate>_id``).
    aggregate: str
    aggregate_class: type[Aggregate]
    #: The cached current-state table.
    state_model: type[models.Model]
    #: The event types ``create`` and then ``change`` record.
    created_event: str
    changed_event: str
    #: The service's composition root (``bootstrap``).
    composition_root: Any
    #: The consumer whose inbox receives this producer's events.
    subscriber: str

    @pytest.fixture(autouse=True)
    def _dynamodb_store(self, request, settings, class_moto_server) -> Iterator[None]:
        local_aws = class_moto_server  # the stack.moto_fixtures plugin's
        settings.EVENT_STORE = "dynamodb"
        settings.AWS_ENDPOINT_URL = local_aws.endpoint_url
        # A prefix per test: nothing cached for another test's tables applies.
        settings.EVENT_TOPOLOGY_PREFIX = f"dd-{uuid.uuid4().hex[:10]}-"
        self.wiring = request.getfixturevalue("event_sourcing")
        self.dynamodb = client("dynamodb", messaging.aws_settings())
        self.table = self.repository().events
        yield
        local_aws.reset()  # moto slows down as it fills up

    # What each service says ---------------------------------------------------

    @abc.abstractmethod
    def create(self) -> models.Model:
        """Run the command that creates an aggregate (one event); its state row."""

    @abc.abstractmethod
    def change(
        self, row: models.Model, *, expected_version: int | None = None
    ) -> models.Model:
        """Run a command that records exactly one more event; the row after it."""

    @abc.abstractmethod
    def command(self, aggregate: Aggregate) -> None:
        """Call, on a loaded aggregate, the command ``change`` runs."""

    @abc.abstractmethod
    def create_request(self) -> dict[str, Any]:
        """The API request that creates an aggregate: ``path``, ``data``, ``format``."""

    @abc.abstractmethod
    def cached_state(self, aggregate_id: UUID) -> tuple[Any, ...]:
        """The state row's fields, comparable with ``folded_state``."""

    @abc.abstractmethod
    def folded_state(self, aggregate: Aggregate) -> tuple[Any, ...]:
        """The same fields, from the aggregate."""

    @abc.abstractmethod
    def tamper(self, aggregate_id: UUID) -> None:
        """Change the state row behind the event store's back."""

    # Helpers ------------------------------------------------------------------

    def repository(self) -> DynamoDBEventSourcedRepository:
        return getattr(self.wiring, f"{self.aggregate}_repository")

    def items(self) -> list[dict]:
        return table_items(self.dynamodb, self.table.name)

    def create_and_crash_before_postgres_commits(self) -> Any:
        """Run ``create`` and die after its PutItem, before PostgreSQL commits:
        the commit is in DynamoDB, the state row never was. Its id."""
        created: list[models.Model] = []
        with pytest.raises(Crash), transaction.atomic():
            created.append(self.create())
            raise Crash
        return created[0].pk

    def commit_behind_the_writers_back(self, aggregate_id: UUID) -> None:
        """Another writer's commit, in DynamoDB only (its PostgreSQL side is
        still open, or died): the next version is taken."""
        other = self.repository().get(aggregate_id)
        self.command(other)
        envelopes = envelopes_for(
            aggregate=other, events=other.collect_pending(), producer=self.producer
        )
        self.table.append(commit_of(envelopes, committed_at=envelopes[0].occurred_at))

    # Each commit, one item ----------------------------------------------------

    def test_each_command_is_one_item_holding_its_envelopes(self):
        row = self.change(self.create())

        items = self.items()
        assert [
            (int(item["version"]["N"]), int(item["last_version"]["N"]))
            for item in items
        ] == [(1, 1), (2, 2)]
        assert [event_types(item) for item in items] == [
            [self.created_event],
            [self.changed_event],
        ]
        for item in items:
            assert item["aggregate_id"]["S"] == str(row.pk)
            assert item["aggregate_type"]["S"] == self.aggregate_class.aggregate_type
            assert item["producer"]["S"] == self.producer
            assert item["committed_at"]["S"].endswith("Z")
        prefix = messaging.topology().prefix
        assert self.table.name == f"{prefix}{self.producer}-events-store"

    def test_nothing_goes_to_the_postgres_event_store_or_its_outbox(
        self, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as after_commit:
            self.change(self.create())

        assert not StoredEvent.objects.exists()
        assert not OutboxMessage.objects.exists()
        assert after_commit == []  # no relay to wake: the stream is the outbox

    def test_the_state_row_is_the_fold_of_the_items(self):
        row = self.change(self.create())

        folded = self.repository().get(row.pk)
        assert folded.version == 2
        assert self.cached_state(row.pk) == self.folded_state(folded)

    def test_the_repository_loads_from_the_items_not_from_the_cached_row(self):
        row = self.create()
        from_events = self.folded_state(self.repository().get(row.pk))

        self.tamper(row.pk)

        assert self.cached_state(row.pk) != from_events
        assert self.folded_state(self.repository().get(row.pk)) == from_events

    def test_as_of_folds_the_items_up_to_a_version(self):
        row = self.create()
        first = self.cached_state(row.pk)
        self.change(row)

        assert self.folded_state(self.repository().get_as_of(row.pk, 1)) == first
        assert self.repository().get_as_of(row.pk, 2).version == 2

    def test_the_history_api_reads_the_table(self, api_client):
        row = self.change(self.create())
        url = f"{self.aggregate}-history"
        envelopes = [
            from_json(value["S"])
            for item in self.items()
            for value in item["events"]["L"]
        ]

        history = api_client.get(reverse(url, kwargs={f"{self.aggregate}_id": row.pk}))
        as_of = api_client.get(
            reverse(
                f"{self.aggregate}-as-of",
                kwargs={f"{self.aggregate}_id": row.pk, "version": 1},
            )
        )
        beyond = api_client.get(
            reverse(
                f"{self.aggregate}-as-of",
                kwargs={f"{self.aggregate}_id": row.pk, "version": 3},
            )
        )
        unknown = api_client.get(
            reverse(url, kwargs={f"{self.aggregate}_id": uuid.uuid4()})
        )

        assert history.status_code == 200
        body = history.json()
        assert body["count"] == 2
        assert [
            (event["event_id"], event["aggregate_version"], event["event_type"])
            for event in body["results"]
        ] == [(str(e.event_id), e.aggregate_version, e.event_type) for e in envelopes]
        assert [event["correlation_id"] for event in body["results"]] == [
            str(envelope.correlation_id) for envelope in envelopes
        ]
        assert as_of.status_code == 200 and as_of.json()["version"] == 1
        assert beyond.status_code == 404
        assert beyond.json()["detail"].endswith("its last recorded version is 2")
        assert unknown.status_code == 404
        assert not StoredEvent.objects.exists()

    def test_the_composition_root_chooses_the_store_from_the_setting(self, settings):
        wiring = self.composition_root.build_wiring(Approach.EVENT_SOURCING)
        history = getattr(wiring, f"{self.aggregate}_history")

        assert type(self.repository()) is DynamoDBEventSourcedRepository
        assert isinstance(history, DynamoDBEventStoreHistory)
        assert history.repository is getattr(wiring, f"{self.aggregate}_repository")
        assert wiring.publisher_factory is None  # no outbox, no relay

        settings.EVENT_STORE = "postgres"
        wiring = self.composition_root.build_wiring(Approach.EVENT_SOURCING)
        assert type(getattr(wiring, f"{self.aggregate}_repository")) is not (
            DynamoDBEventSourcedRepository
        )
        assert wiring.publisher_factory is not None

    # A stale writer ----------------------------------------------------------

    def test_a_stale_expected_version_is_refused_and_changes_nothing(self):
        row = self.create()
        self.change(row)
        before = self.cached_state(row.pk)

        with pytest.raises(ConcurrencyConflict) as refused:
            self.change(row, expected_version=1)

        assert "at version 2, not 1" in refused.value.message
        assert len(self.items()) == 2
        assert self.cached_state(row.pk) == before

    def test_a_commit_refused_by_dynamodb_rolls_the_state_row_back(self):
        row = self.create()
        before = self.cached_state(row.pk)
        loaded = self.repository().get(row.pk)  # version 1
        self.commit_behind_the_writers_back(row.pk)  # version 2 is taken
        self.command(loaded)

        refused: list[ConcurrencyConflict] = []
        with transaction.atomic():
            try:
                self.repository().save(loaded)
            except ConcurrencyConflict as error:
                refused.append(error)  # a caller that carries on regardless...

        assert "version 2 already exists" in refused[0].message
        # ...still cannot commit the state row without its events.
        assert self.cached_state(row.pk) == before
        assert [int(item["version"]["N"]) for item in self.items()] == [1, 2]

    # Throttled ----------------------------------------------------------------

    def test_a_throttled_put_is_503_with_the_reason_and_commits_nothing(
        self, api_client, monkeypatch
    ):
        self.table.ensure()
        throttled = ThrottledPutItem(self.table.client)
        monkeypatch.setattr(self.table, "client", throttled)

        response = api_client.post(**self.create_request())

        assert response.status_code == 503
        assert THROTTLED in response.json()["detail"]
        assert self.table.name in response.json()["detail"]
        assert response["Retry-After"]
        assert throttled.refused == 1
        assert self.items() == []
        assert not self.state_model.objects.exists()

    def test_a_throttled_change_leaves_the_row_and_the_items_as_they_were(
        self, monkeypatch
    ):
        row = self.create()
        before = self.cached_state(row.pk)
        monkeypatch.setattr(self.table, "client", ThrottledPutItem(self.table.client))

        with pytest.raises(EventStoreUnavailable, match=THROTTLED):
            self.change(row)

        assert self.cached_state(row.pk) == before
        assert len(self.items()) == 1

    # The crash window ---------------------------------------------------------

    def test_a_crash_after_the_first_commit_is_healed_by_the_next_save(self):
        aggregate_id = self.create_and_crash_before_postgres_commits()

        # The commit is in DynamoDB (the truth); the state row never was.
        assert not self.state_model.objects.filter(pk=aggregate_id).exists()
        assert self.repository().get(aggregate_id).version == 1

        self.change(self.state_model(pk=aggregate_id))

        folded = self.repository().get(aggregate_id)
        assert folded.version == 2
        assert self.cached_state(aggregate_id) == self.folded_state(folded)
        assert len(self.items()) == 2

    # Two real writers ------------------------------------------------------------

    @pytest.mark.django_db(transaction=True)
    def test_two_writers_at_one_version_one_commits_the_other_gets_409(self):
        row = self.create()
        barrier = threading.Barrier(2, timeout=20)
        outcomes: dict[str, object] = {}

        def write(name: str) -> None:
            try:
                with transaction.atomic():
                    aggregate = self.repository().get(row.pk)
                    barrier.wait()  # both hold version 1 before either saves
                    self.command(aggregate)
                    self.repository().save(aggregate)
                outcomes[name] = "saved"
            except BaseException as error:  # asserted below
                outcomes[name] = error
            finally:
                connection.close()  # this thread's own connection

        writers = [threading.Thread(target=write, args=(n,)) for n in ("L", "R")]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=60)

        assert not any(writer.is_alive() for writer in writers)
        saved = [name for name, outcome in outcomes.items() if outcome == "saved"]
        refused = [o for o in outcomes.values() if isinstance(o, ConcurrencyConflict)]
        assert (len(saved), len(refused)) == (1, 1), outcomes
        assert [int(item["version"]["N"]) for item in self.items()] == [1, 2]
        folded = self.repository().get(row.pk)
        assert self.cached_state(row.pk) == self.folded_state(folded)

    @pytest.mark.django_db(transaction=True)
    def test_a_writer_behind_a_crashed_commit_is_refused_by_the_put(self):
        """The put, not the row, is the arbiter: the first writer commits in
        DynamoDB and dies before PostgreSQL commits; the second, which loaded
        the same version and waited on the row lock, gets the row but loses
        the put, and rolls its row back."""
        row = self.create()
        loaded, committed = threading.Event(), threading.Event()
        outcomes: dict[str, object] = {}

        def first() -> None:
            try:
                with transaction.atomic():
                    aggregate = self.repository().get(row.pk)
                    loaded.wait(20)
                    self.command(aggregate)
                    self.repository().save(aggregate)  # the row, then the put
                    committed.set()
                    wait_until(lambda: waiting_for_a_lock() == 1)
                    raise Crash
            except BaseException as error:
                outcomes["first"] = error
            finally:
                connection.close()

        def second() -> None:
            try:
                with transaction.atomic():
                    aggregate = self.repository().get(row.pk)
                    loaded.set()
                    committed.wait(20)
                    self.command(aggregate)
                    self.repository().save(aggregate)  # waits for the row lock
                outcomes["second"] = "saved"
            except BaseException as error:
                outcomes["second"] = error
            finally:
                connection.close()

        writers = [threading.Thread(target=first), threading.Thread(target=second)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=60)

        assert isinstance(outcomes["first"], Crash), outcomes
        assert isinstance(outcomes["second"], ConcurrencyConflict), outcomes
        assert "version 2 already exists" in outcomes["second"].message
        # DynamoDB holds the crashed writer's commit; the row is behind it...
        assert [int(item["version"]["N"]) for item in self.items()] == [1, 2]
        assert self.cached_state(row.pk)[0] == 1
        # ...until a save heals it (here the repository's own step, as the
        # second command may not be one the aggregate accepts twice).
        with transaction.atomic():
            assert self.repository().heal(row.pk, loaded_version=2)
        folded = self.repository().get(row.pk)
        assert self.cached_state(row.pk) == self.folded_state(folded)

    # The stream is the outbox ---------------------------------------------------

    def test_the_stream_carries_one_insert_per_commit_with_its_envelopes(self):
        self.change(self.create())
        streams = client("dynamodbstreams", messaging.aws_settings())

        records = stream_records(streams, stream_arn(self.dynamodb, self.table.name))

        assert [record["eventName"] for record in records] == ["INSERT", "INSERT"]
        assert [record["dynamodb"]["NewImage"] for record in records] == self.items()
        assert [record["dynamodb"]["Keys"] for record in records] == [
            {"aggregate_id": item["aggregate_id"], "version": item["version"]}
            for item in self.items()
        ]

    def test_publish_committed_sends_each_commit_to_the_subscribers(self):
        self.change(self.create())
        streams = client("dynamodbstreams", messaging.aws_settings())
        arn = stream_arn(self.dynamodb, self.table.name)
        event = lambda_event(stream_records(streams, arn), arn=arn)
        function = importlib.import_module(
            f"{self.producer}_service.functions.publish_committed"
        )

        answer = function.handler(event, None)

        assert answer == {"batchItemFailures": []}
        bodies = [value["S"] for item in self.items() for value in item["events"]["L"]]
        inbox = messaging.routes().consumer(self.subscriber).queue_url
        assert self.receive(inbox, count=len(bodies)) == bodies

    def publish_from_the_stream(self) -> dict:
        """Run the service's ``publish_committed`` function on every record
        the table's stream holds; its answer."""
        streams = client("dynamodbstreams", messaging.aws_settings())
        arn = stream_arn(self.dynamodb, self.table.name)
        event = lambda_event(stream_records(streams, arn), arn=arn)
        function = importlib.import_module(
            f"{self.producer}_service.functions.publish_committed"
        )
        return function.handler(event, None)

    def test_a_crash_before_the_postgres_commit_is_healed_from_the_stream(self):
        aggregate_id = self.create_and_crash_before_postgres_commits()
        assert not self.state_model.objects.filter(pk=aggregate_id).exists()

        # No later command: the commit coming by on the stream is enough.
        answer = self.publish_from_the_stream()

        assert answer == {"batchItemFailures": []}
        folded = self.repository().get(aggregate_id)
        assert self.cached_state(aggregate_id) == self.folded_state(folded)

    def test_a_commit_whose_row_cannot_be_kept_is_left_to_the_retry(self, monkeypatch):
        self.create()

        def database_down(*args, **kwargs):
            raise OperationalError("the database is restarting")

        monkeypatch.setattr(DynamoDBEventSourcedRepository, "heal", database_down)
        answer = self.publish_from_the_stream()

        # The record is retried from there, and nothing of it went out.
        (failure,) = answer["batchItemFailures"]
        assert failure["itemIdentifier"]
        inbox = messaging.routes().consumer(self.subscriber).queue_url
        assert self.receive(inbox, count=1, wait=2) == []

    def receive(self, queue_url: str, *, count: int, wait: float = 20) -> list[str]:
        sqs = messaging.sqs_client()
        bodies: list[str] = []
        deadline = time.monotonic() + wait
        while len(bodies) < count and time.monotonic() < deadline:
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            if messages:
                bodies += [message["Body"] for message in messages]
                delete_received(sqs, queue_url, messages)
        return bodies

"""What the consumer tests share: a real moto server, an inbox, events, polling.

The moto server is a subprocess spoken to over HTTP, one per test session. Each
test gets its own inbox and dead-letter queue, made by ``ensure_topology`` under a
unique prefix (so the redrive policy is the one the platform itself creates), and
the server is reset afterwards: moto slows down as its queues grow.

Test modules import the fixtures from here (``inbox_fixture``,
``moto_server_fixture`` and ``no_backoff_fixture``, which pytest knows as
``inbox``, ``moto_server`` and ``no_backoff``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

from order_service.orders.handlers import EVENT_HANDLERS
from shared_events.consume import EventConsumer, Handler, Outcome
from shared_events.consume import consumer as consumer_module
from shared_events.events import (
    AggregateType,
    EventEnvelope,
    EventType,
    new_envelope,
)
from shared_events.testing.signing import signed, tampered_json
from shared_events.transport import (
    AwsSettings,
    ConsumerSettings,
    DeadLetter,
    DeadLetterQueue,
    client,
    ensure_topology,
    platform_topology,
)
from stack.moto_server import MotoServer, start_moto_server

#: The consumer name the order service's ``consume_events`` records events under.
CONSUMER_NAME = "order-inbox"
#: Small, so that a poison message reaches the dead-letter queue quickly.
MAX_RECEIVE_COUNT = 3


# --- the moto server and one inbox per test ---------------------------------------

_server: MotoServer | None = None


@pytest.fixture(scope="session", name="moto_server")
def moto_server_fixture() -> Iterator[MotoServer]:
    """One moto server for the session, shared by every module that imports this.

    Each importing module gets its own fixture definition, hence the module-level
    singleton: the first one starts the server, the last teardown stops it.
    """
    global _server
    if _server is None or not _server.running():
        _server = start_moto_server()
    yield _server
    if _server is not None and _server.running():
        _server.stop()


@dataclass
class Inbox:
    """The order service's inbox and its dead-letter queue, on the moto server."""

    aws: AwsSettings
    prefix: str
    queue_url: str
    dead_letter_queue_url: str
    max_receive_count: int
    sqs: Any = field(repr=False)

    def send(
        self,
        body: str,
        *,
        times: int = 1,
        attributes: Mapping[str, str] | None = None,
    ) -> None:
        message_attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in (attributes or {}).items()
        }
        for _ in range(times):
            self.sqs.send_message(
                QueueUrl=self.queue_url,
                MessageBody=body,
                MessageAttributes=message_attributes,
            )

    def counts(self, queue_url: str | None = None) -> tuple[int, int]:
        """(visible, in flight) messages, as SQS counts them."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url or self.queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )

    def is_drained(self) -> bool:
        """Nothing left in the inbox, visible or in flight, and nothing dead."""
        return self.counts() == (0, 0) and self.counts(self.dead_letter_queue_url) == (
            0,
            0,
        )

    def take_dead_letters(
        self, *, expected: int, timeout: float = 10.0
    ) -> list[DeadLetter]:
        """Receive and delete ``expected`` dead letters (or those in ``timeout``)."""
        queue = DeadLetterQueue(
            sqs=self.sqs, queue_url=self.dead_letter_queue_url, inbox_url=self.queue_url
        )
        letters: list[DeadLetter] = []
        deadline = time.monotonic() + timeout
        while len(letters) < expected and time.monotonic() < deadline:
            held = queue.hold_all(limit=expected - len(letters))
            for letter in held:
                self.sqs.delete_message(
                    QueueUrl=self.dead_letter_queue_url,
                    ReceiptHandle=letter.message["ReceiptHandle"],
                )
            letters.extend(held)
        return letters


@pytest.fixture(name="inbox")
def inbox_fixture(moto_server: MotoServer) -> Iterator[Inbox]:
    """A fresh inbox + DLQ with a redrive policy, made by ``ensure_topology``."""
    aws = AwsSettings(endpoint_url=moto_server.endpoint_url)
    prefix = f"t{uuid.uuid4().hex[:10]}-"
    topology = platform_topology(
        prefix=prefix, max_receive_count=MAX_RECEIVE_COUNT, visibility_timeout=30
    )
    report = ensure_topology(topology, aws)
    yield Inbox(
        aws=aws,
        prefix=prefix,
        queue_url=report.queue_urls["order"],
        dead_letter_queue_url=report.dead_letter_queue_urls["order"],
        max_receive_count=MAX_RECEIVE_COUNT,
        sqs=client("sqs", aws),
    )
    moto_server.reset()


# --- consumers --------------------------------------------------------------------


@pytest.fixture(name="no_backoff")
def no_backoff_fixture(monkeypatch) -> None:
    """A failed or held message is visible again at once (instead of 1, 2, 4 s)."""
    monkeypatch.setattr(consumer_module, "retry_delay", lambda receive_count: 0)


@dataclass(frozen=True)
class Handled:
    """One message as the consumer saw it: its body, which receive, the outcome."""

    body: str
    receive_count: int
    outcome: Outcome

    @property
    def version(self) -> int | None:
        try:
            return json.loads(self.body)["aggregate_version"]
        except (ValueError, KeyError, TypeError):
            return None


class RecordingConsumer(EventConsumer):
    """The real consumer, keeping a log of every message it handled."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log: list[Handled] = []

    def handle(self, message: dict) -> Outcome:
        outcome = super().handle(message)
        receive_count = int(message["Attributes"]["ApproximateReceiveCount"])
        self.log.append(Handled(message["Body"], receive_count, outcome))
        return outcome

    def outcomes_of(self, body: str) -> list[Outcome]:
        return [entry.outcome for entry in self.log if entry.body == body]

    def position(self, outcome: Outcome, body: str | None = None) -> int:
        """Where in the log ``outcome`` first happened (to ``body``, if given)."""
        return next(
            index
            for index, entry in enumerate(self.log)
            if entry.outcome is outcome and body in (None, entry.body)
        )


def order_consumer(
    inbox: Inbox,
    *,
    handlers: Mapping[str, Sequence[Handler]] | None = None,
    visibility_timeout: int = 30,
    gap_patience_seconds: float = 45.0,
) -> RecordingConsumer:
    """The order service's consumer on ``inbox``, with its real handlers by default."""
    return RecordingConsumer(
        settings=ConsumerSettings(
            name=CONSUMER_NAME,
            queue_url=inbox.queue_url,
            dead_letter_queue_url=inbox.dead_letter_queue_url,
            max_receive_count=inbox.max_receive_count,
            wait_time_seconds=1,
            visibility_timeout=visibility_timeout,
            gap_patience_seconds=gap_patience_seconds,
        ),
        sqs=inbox.sqs,
        handlers=EVENT_HANDLERS if handlers is None else handlers,
    )


def with_extra_handler(
    extra: Handler, *, event_types: Sequence[str] | None = None
) -> dict[str, list[Handler]]:
    """The real handlers, with ``extra`` run after them for ``event_types`` (all)."""
    chosen = set(EVENT_HANDLERS if event_types is None else event_types)
    return {
        event_type: [*handlers, extra] if event_type in chosen else list(handlers)
        for event_type, handlers in EVENT_HANDLERS.items()
    }


def poll_until(
    consumer: EventConsumer,
    done: Callable[[], bool],
    *,
    timeout: float = 15.0,
    what: str = "the condition",
) -> None:
    """Poll batch after batch until ``done()``; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{what} not reached within {timeout:.0f}s; "
                f"outcomes so far: {consumer.stats}"
            )
        consumer.poll_once()


def poll_until_counted(
    consumer: EventConsumer, outcome: Outcome, count: int, *, what: str
) -> None:
    """Poll until ``count`` messages have had ``outcome`` (e.g. dead-lettered)."""
    poll_until(
        consumer, lambda: consumer.stats.counts.get(outcome, 0) == count, what=what
    )


def consume_until_dead_lettered(
    inbox: Inbox, failing_handler: Handler, *, event_type: str
) -> RecordingConsumer:
    """The consumer, with ``failing_handler`` run after the real handlers of
    ``event_type``, polled until it has dead-lettered one message."""
    consumer = order_consumer(
        inbox, handlers=with_extra_handler(failing_handler, event_types=[event_type])
    )
    poll_until_counted(
        consumer,
        Outcome.DEAD_LETTERED,
        1,
        what=f"the failing {event_type} dead-lettered",
    )
    return consumer


def wait_for(
    condition: Callable[[], bool], *, timeout: float = 15.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout:.0f}s")
        time.sleep(0.05)


# --- customer events --------------------------------------------------------------


def customer_event(
    event_type: str, *, customer_id: uuid.UUID, version: int, **payload: Any
) -> EventEnvelope:
    """A customer event as the customer service publishes it."""
    return new_envelope(
        event_type=event_type,
        aggregate_type=AggregateType.CUSTOMER,
        aggregate_id=customer_id,
        aggregate_version=version,
        producer="customer",
        payload={"customer_id": str(customer_id), **payload},
    )


def registered(customer_id: uuid.UUID, *, name: str = "Ada Lovelace") -> EventEnvelope:
    return customer_event(
        EventType.CUSTOMER_REGISTERED,
        customer_id=customer_id,
        version=1,
        name=name,
        email="ada@example.com",
        address="12 St James's Square, London",
    )


def renamed(customer_id: uuid.UUID, *, version: int, name: str) -> EventEnvelope:
    return customer_event(
        EventType.CUSTOMER_RENAMED, customer_id=customer_id, version=version, name=name
    )


def deleted(customer_id: uuid.UUID, *, version: int) -> EventEnvelope:
    return customer_event(
        EventType.CUSTOMER_DELETED, customer_id=customer_id, version=version
    )


def body(envelope: EventEnvelope) -> str:
    """The envelope as the customer service publishes it: signed."""
    return signed(envelope)


def tampered(envelope: EventEnvelope, change: Callable[[dict], None]) -> str:
    """The envelope as JSON, changed after validation and signed: what a buggy
    producer sends (it fails for its own reason, not a missing signature)."""
    return tampered_json(envelope, change)


# --- the test database, for a subprocess ------------------------------------------


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """A ``postgres://`` URL for a Django ``settings_dict`` (the test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = ""
    if user:
        credentials = f"{user}:{password}@" if password else f"{user}@"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"

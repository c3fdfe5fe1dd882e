"""The publisher port: publish a batch, learn exactly which messages were accepted.

The outbox relay hands a publisher a list of messages and gets back *exactly*
which ones the broker accepted; it marks only those as published and retries the
rest later. So a publisher must never guess, and never raise for an outage.

What a learner should notice: the relay knows only this port. The AWS adapters
(``aws_publishers``: SNS, SQS) and the two stand-ins below subclass it, so a
test or a benchmark swaps the broker without the relay noticing. Plain Python:
no Django, no boto3.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingMessage:
    """One event on its way to the broker.

    ``id`` is the event id, ``body`` the envelope JSON, ``group_id`` the aggregate
    id (the FIFO message group), and ``attributes`` the String message attributes
    a consumer or a filter policy can read without parsing the body
    (``event_type``, ``aggregate_type``, ``schema_version``).
    """

    id: str
    body: str
    group_id: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class PublishResult:
    """Which messages the broker accepted, and why the others were not."""

    accepted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def all_accepted(self) -> bool:
        return not self.failed


class EventPublisher(ABC):
    """The port: publish a batch, learn exactly which messages were accepted."""

    @abstractmethod
    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> PublishResult:
        """Publish ``messages`` in order. Never raises for an AWS or network error."""


def outgoing_message(
    *, event_id: str, body: str, aggregate_id: str, event_type: str, aggregate_type: str
) -> OutgoingMessage:
    """The broker message of one event: the envelope is the body, as is."""
    return OutgoingMessage(
        id=event_id,
        body=body,
        group_id=aggregate_id,
        attributes={"event_type": event_type, "aggregate_type": aggregate_type},
    )


# --- stand-ins ------------------------------------------------------------------


class NullPublisher(EventPublisher):
    """Accepts everything and sends nothing: measures the relay's database side."""

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> PublishResult:
        return PublishResult(accepted=[message.id for message in messages])


class RecordingPublisher(EventPublisher):
    """Test fake: records what it accepted; can be told to fail messages or go down.

    ``failures`` maps an event id to the reason it will fail with; ``outage`` (a
    reason) makes every message fail, like an unreachable broker.
    """

    def __init__(
        self,
        *,
        failures: Mapping[str, str] | None = None,
        outage: str | None = None,
    ) -> None:
        self.failures: dict[str, str] = dict(failures or {})
        self.outage = outage
        self.published: list[OutgoingMessage] = []
        self.calls: list[list[OutgoingMessage]] = []

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> PublishResult:
        self.calls.append(list(messages))
        result = PublishResult()
        for message in messages:
            reason = self.outage or self.failures.get(message.id)
            if reason is None:
                self.published.append(message)
                result.accepted.append(message.id)
            else:
                result.failed[message.id] = reason
        return result

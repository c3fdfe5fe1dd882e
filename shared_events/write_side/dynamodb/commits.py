"""One commit, one DynamoDB item: the format every reader of the table relies on.

The table is keyed by (``aggregate_id``, ``version``), where ``version`` is
the commit's FIRST aggregate version. An item holds::

    aggregate_id S, version N, last_version N, aggregate_type S, producer S,
    committed_at S (UTC ISO-8601), events L of S

and each ``events`` string is one envelope exactly as ``encode_signed`` made
it (validated and signed by its producer), in version order. The stream
relay reads the same attributes from a stream record's ``NewImage``
(``shared_events.outbox.stream_relay``), so a change here is a change of the
wire format.

What a learner should notice: why the first version is the sort key. Commits
follow each other without gaps (the next one starts at the previous one's
``last_version`` + 1), so two writers that loaded the same state both start
their commit at the same version, and ask for the same key. One conditional
``PutItem`` (``attribute_not_exists``) gets it; the other is refused. The
version is the lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared_events.event_keys import encode_signed
from shared_events.events import EventEnvelope, format_timestamp, from_json

#: The commit succeeds only if no item has its key yet.
COMMIT_CONDITION = "attribute_not_exists(aggregate_id)"


@dataclass(frozen=True, kw_only=True)
class Commit:
    """One aggregate's events of one command, as one item of the event table."""

    aggregate_id: str
    version: int
    last_version: int
    aggregate_type: str
    producer: str
    committed_at: datetime
    events: tuple[str, ...]

    def envelopes(self) -> list[EventEnvelope]:
        """The commit's events, decoded and validated against the registry."""
        return [from_json(text) for text in self.events]


def commit_of(envelopes: Sequence[EventEnvelope], *, committed_at: datetime) -> Commit:
    """The commit of one aggregate's new events (``encode_signed`` validates and
    signs each: the table's stream publishes them as they are)."""
    first, last = envelopes[0], envelopes[-1]
    return Commit(
        aggregate_id=str(first.aggregate_id),
        version=first.aggregate_version,
        last_version=last.aggregate_version,
        aggregate_type=first.aggregate_type,
        producer=first.producer,
        committed_at=committed_at,
        events=tuple(encode_signed(envelope) for envelope in envelopes),
    )


def to_item(commit: Commit) -> dict[str, dict[str, Any]]:
    """The commit in DynamoDB's typed attribute values, as ``PutItem`` takes it."""
    return {
        "aggregate_id": {"S": commit.aggregate_id},
        "version": {"N": str(commit.version)},
        "last_version": {"N": str(commit.last_version)},
        "aggregate_type": {"S": commit.aggregate_type},
        "producer": {"S": commit.producer},
        "committed_at": {"S": format_timestamp(commit.committed_at)},
        "events": {"L": [{"S": text} for text in commit.events]},
    }


def from_item(item: Mapping[str, Mapping[str, Any]]) -> Commit:
    """A commit from an item as ``Query`` (or a stream's ``NewImage``) returns it."""
    return Commit(
        aggregate_id=item["aggregate_id"]["S"],
        version=int(item["version"]["N"]),
        last_version=int(item["last_version"]["N"]),
        aggregate_type=item["aggregate_type"]["S"],
        producer=item["producer"]["S"],
        committed_at=datetime.fromisoformat(item["committed_at"]["S"]),
        events=tuple(value["S"] for value in item["events"]["L"]),
    )

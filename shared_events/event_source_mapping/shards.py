"""What the two kinds of stream have in common: shards, positions, records.

Kinesis Data Streams and DynamoDB Streams are read the same way: list the
shards, ask for an iterator at a position, then ``GetRecords`` again and again
with the iterator each answer hands back. The two adapters
(``kinesis_source``, ``dynamodb_stream_source``) subclass :class:`StreamSource`
and differ only in their API calls and in the shape of Lambda's event.

Things a learner should notice:

* A position is a sequence number, and sequence numbers are compared as
  integers (moto's Kinesis gives "1", "2", ..., "10": as strings "10" < "2").
* With no checkpoint a shard starts at ``TRIM_HORIZON`` (the oldest record
  kept) or ``LATEST`` (only records written from now on); with one it starts
  ``AFTER_SEQUENCE_NUMBER`` the checkpoint, whatever the starting position.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared_events.event_source_mapping.mappings import StartingPosition
from shared_events.event_source_mapping.resolve import RunnableMapping


@dataclass(frozen=True)
class StreamRecord:
    """One stream record: its position, and the record as Lambda delivers it."""

    shard_id: str
    sequence_number: str
    arrival: float  # epoch seconds
    document: dict[str, Any]

    @property
    def position(self) -> int:
        return int(self.sequence_number)


@dataclass(frozen=True)
class ShardRead:
    """One ``GetRecords`` answer; ``next_iterator`` is None once a shard closed."""

    records: list[StreamRecord]
    next_iterator: str | None


class StreamSource(ABC):
    """The reads a runner makes on one stream, for one mapping."""

    #: The key of the on-failure record's batch description.
    batch_info_key: str
    #: The most records one ``GetRecords`` call may ask for.
    max_read_limit: int

    def __init__(self, runnable: RunnableMapping, *, aws: Any) -> None:
        self.runnable = runnable
        self.aws = aws

    @abstractmethod
    def shard_ids(self) -> list[str]:
        """The stream's shards, oldest first."""

    @abstractmethod
    def iterator(
        self,
        shard_id: str,
        *,
        after: str | None,
        starting_position: StartingPosition,
    ) -> str:
        """An iterator just after ``after``, or at ``starting_position``."""

    @abstractmethod
    def read(self, shard_id: str, iterator: str, *, limit: int) -> ShardRead:
        """Up to ``limit`` records from ``iterator``."""

    @abstractmethod
    def format_arrival(self, arrival: float) -> str:
        """An arrival time as the on-failure record writes it."""

    def event(self, records: list[StreamRecord]) -> dict[str, Any]:
        """The event a stream handler receives: ``{"Records": [...]}``."""
        return {"Records": [record.document for record in records]}


def iso_millis(epoch: float) -> str:
    """``2019-11-14T00:38:04.835Z``: how Lambda writes times with milliseconds."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_seconds(epoch: float) -> str:
    """``2019-11-14T00:13:19Z``: DynamoDB Streams' times are whole seconds."""
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

"""What the streams still hold for their Lambda functions: records past no checkpoint.

Under ``EVENT_DELIVERY=kinesis`` and ``EVENT_STORE=dynamodb`` events wait on
streams (Kinesis Data Streams, DynamoDB Streams), not in queues. A stream
keeps every record, read or not, until its retention ends, so what is *left*
is relative to a reader: an event source mapping and its checkpoint per
shard (``shared_events/event_source_mapping/checkpoints.py``), which the
local runner writes only once a batch is done. A mapping's backlog is, on
each shard, the records ``AFTER_SEQUENCE_NUMBER`` its checkpoint, or every
record from ``TRIM_HORIZON`` when it has none.

What a learner should notice:

* Unlike a queue, a stream can be read without disturbing its reader: the
  probe reads the records themselves, so it can name the aggregates still
  on their way.
* Sequence numbers compare as integers ("10" comes after "9").
* A checkpoint belongs to one incarnation of its stream (the runner records
  the source's identity with it); one left by an earlier moto server counts
  as none, as it does for the runner.
* Several mappings read one stream (the order consumer and both projectors
  read the customer stream): each shard is read once, from the lowest
  checkpoint, and the records are counted per mapping.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared_events.configuration import SERVICES, VAR_DIR
from shared_events.event_source_mapping import (
    CheckpointStore,
    EventSourceMapping,
    SourceKind,
)
from shared_events.event_source_mapping.resolve import ResolvedSource, resolve_source
from shared_events.functions import function_path, platform_mappings
from shared_events.transport.clients import AwsSettings, client
from shared_events.transport.topology import platform_topology

if TYPE_CHECKING:
    from stack.platform_run import PlatformRun

#: Where ``manage.py --service X run_event_source_mappings`` keeps its
#: checkpoints by default, under the platform's var directory.
CHECKPOINT_FOLDER = "event-source-mappings"
# Pages read from one shard in one measurement at most: a bound, not a limit
# reached in practice (moto answers up to 10,000 records a page).
MAX_PAGES = 1_000


@dataclass(frozen=True)
class WatchedMapping:
    """One mapping whose backlog is counted.

    ``feeds`` is the consumer it applies events for ("order", "customer-read"),
    or "" when it publishes them (a DynamoDB stream read as the outbox).
    """

    mapping: EventSourceMapping
    service: str
    feeds: str

    @property
    def name(self) -> str:
        return self.mapping.name

    @property
    def publishes(self) -> bool:
        return not self.feeds


@dataclass(frozen=True)
class PendingRecord:
    """A record a mapping has not got past: where it is, and whose it is."""

    shard_id: str
    sequence_number: str
    aggregate_id: str


def watched_mappings(
    *, approach: str, delivery: str, store: str, prefix: str, read_side: bool
) -> list[WatchedMapping]:
    """Every stream mapping the platform's runners run, with what each feeds."""
    topology = platform_topology(prefix=prefix, delivery=delivery, read_side=read_side)
    feeds_of = {
        "consume_events": "{service}",
        "project_events": "{service}-read",
        "publish_committed": "",
    }
    watched = []
    for service in SERVICES:
        for mapping in platform_mappings(
            service=service,
            approach=approach,
            delivery=delivery,
            store=store,
            topology=topology,
            retries=1,
        ):
            if not mapping.is_stream:
                continue
            function = next(
                name
                for name in feeds_of
                if mapping.function == function_path(service, name)
            )
            feeds = feeds_of[function].format(service=service)
            watched.append(
                WatchedMapping(mapping=mapping, service=service, feeds=feeds)
            )
    return watched


class StreamBacklog:
    """Reads, per mapping, the records its checkpoints have not passed."""

    def __init__(
        self,
        *,
        watched: list[WatchedMapping],
        endpoint_url: str | None,
        checkpoint_files: Mapping[str, Path],
    ) -> None:
        self.watched = watched
        self.aws = AwsSettings(endpoint_url=endpoint_url)
        self.checkpoint_files = dict(checkpoint_files)
        self.sources: dict[tuple[SourceKind, str], ResolvedSource] = {}
        for entry in watched:
            key = (entry.mapping.source_kind, entry.mapping.source_name)
            if key not in self.sources:
                self.sources[key] = resolve_source(entry.mapping, aws=self.aws)

    @classmethod
    def of_platform(cls, run: PlatformRun) -> StreamBacklog | None:
        """The stream backlogs of a platform run; None when it has no streams."""
        if run.moto is None:
            return None
        prefix = run.env.get("EVENT_TOPOLOGY_PREFIX", "")
        watched = watched_mappings(
            approach=run.approach,
            delivery=run.env.get("EVENT_DELIVERY", "sns"),
            store=run.env.get("EVENT_STORE", "postgres"),
            prefix=prefix,
            read_side=run.info.read_side,
        )
        if not watched:
            return None
        return cls(
            watched=watched,
            # moto itself, not the proxy a scenario may have cut.
            endpoint_url=run.moto.endpoint_url,
            checkpoint_files={
                service: checkpoint_file(run.env, service=service, prefix=prefix)
                for service in {entry.service for entry in watched}
            },
        )

    @property
    def feeds(self) -> dict[str, str]:
        return {entry.name: entry.feeds for entry in self.watched}

    def pending(self) -> dict[str, list[PendingRecord]]:
        """Each mapping's records not yet past its checkpoint, oldest first."""
        checkpoints = {
            service: CheckpointStore(path)
            for service, path in self.checkpoint_files.items()
        }
        readers: dict[tuple[SourceKind, str], list[WatchedMapping]] = defaultdict(list)
        for entry in self.watched:
            readers[(entry.mapping.source_kind, entry.mapping.source_name)].append(
                entry
            )
        pending: dict[str, list[PendingRecord]] = {}
        for key, entries in readers.items():
            kind, _ = key
            source = self.sources[key]
            for shard_id in self._shards(kind, source):
                # Checkpoints first, records second: a batch finished in between
                # is counted once more, never a record missed.
                positions = {
                    entry.name: checkpoints[entry.service].position(
                        mapping=entry.name, source=source.identity, shard=shard_id
                    )
                    for entry in entries
                }
                records = self._records(kind, source, shard_id, [*positions.values()])
                for entry in entries:
                    position = positions[entry.name]
                    pending.setdefault(entry.name, []).extend(
                        record
                        for record in records
                        if position is None
                        or int(record.sequence_number) > int(position)
                    )
        return pending

    def counts(self) -> dict[str, int]:
        """Records left per mapping (every watched mapping named, 0 included)."""
        pending = self.pending()
        return {entry.name: len(pending.get(entry.name, [])) for entry in self.watched}

    # Reading the streams: raw API calls, as the runner makes them ----------------

    def _shards(self, kind: SourceKind, source: ResolvedSource) -> list[str]:
        if kind is SourceKind.KINESIS:
            kinesis = client("kinesis", self.aws)
            shards, token = [], None
            while True:
                page = (
                    kinesis.list_shards(NextToken=token)
                    if token
                    else kinesis.list_shards(StreamARN=source.arn)
                )
                shards += [shard["ShardId"] for shard in page["Shards"]]
                token = page.get("NextToken")
                if not token:
                    return shards
        streams = client("dynamodbstreams", self.aws)
        description = streams.describe_stream(StreamArn=source.arn)
        return [
            shard["ShardId"] for shard in description["StreamDescription"]["Shards"]
        ]

    def _records(
        self,
        kind: SourceKind,
        source: ResolvedSource,
        shard_id: str,
        positions: list[str | None],
    ) -> list[PendingRecord]:
        """The shard's records after the lowest position (all, if one has none)."""
        after = None if None in positions else min(int(p) for p in positions)
        if kind is SourceKind.KINESIS:
            return self._kinesis_records(source, shard_id, after)
        return self._dynamodb_records(source, shard_id, after)

    def _kinesis_records(
        self, source: ResolvedSource, shard_id: str, after: int | None
    ) -> list[PendingRecord]:
        kinesis = client("kinesis", self.aws)
        arguments: dict[str, Any] = {"StreamARN": source.arn, "ShardId": shard_id}
        if after is None:
            arguments["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            arguments.update(
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                StartingSequenceNumber=str(after),
            )
        iterator = kinesis.get_shard_iterator(**arguments)["ShardIterator"]
        records: list[PendingRecord] = []
        for _ in range(MAX_PAGES):
            page = kinesis.get_records(ShardIterator=iterator, StreamARN=source.arn)
            records += [
                PendingRecord(shard_id, raw["SequenceNumber"], raw["PartitionKey"])
                for raw in page["Records"]
            ]
            iterator = page.get("NextShardIterator")
            if not iterator or (
                not page["Records"] and not page.get("MillisBehindLatest")
            ):
                break
        return records

    def _dynamodb_records(
        self, source: ResolvedSource, shard_id: str, after: int | None
    ) -> list[PendingRecord]:
        streams = client("dynamodbstreams", self.aws)
        arguments: dict[str, Any] = {"StreamArn": source.arn, "ShardId": shard_id}
        if after is None:
            arguments["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            arguments.update(
                ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=str(after)
            )
        iterator = streams.get_shard_iterator(**arguments)["ShardIterator"]
        records: list[PendingRecord] = []
        for _ in range(MAX_PAGES):
            page = streams.get_records(ShardIterator=iterator)
            records += [
                PendingRecord(
                    shard_id,
                    raw["dynamodb"]["SequenceNumber"],
                    raw["dynamodb"]
                    .get("Keys", {})
                    .get("aggregate_id", {})
                    .get("S", ""),
                )
                for raw in page["Records"]
            ]
            iterator = page.get("NextShardIterator")
            if not iterator or not page["Records"]:
                break
        return records


def checkpoint_file(env: Mapping[str, str], *, service: str, prefix: str) -> Path:
    """The runner's checkpoint file of ``service`` (its default place)."""
    var = Path(env.get("PLATFORM_VAR_DIR") or VAR_DIR)
    return var / CHECKPOINT_FOLDER / f"{prefix}{service}.json"

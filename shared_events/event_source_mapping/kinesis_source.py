"""Kinesis Data Streams as Lambda reads them, and the records it hands over.

``ListShards``, ``GetShardIterator`` and ``GetRecords`` over HTTP; each
record becomes the document Lambda puts in a Kinesis event::

    {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": ...,
                 "sequenceNumber": ..., "data": <base64>,
                 "approximateArrivalTimestamp": <epoch seconds>},
     "eventSource": "aws:kinesis", "eventVersion": "1.0",
     "eventID": "shardId-...:<sequence number>",
     "eventName": "aws:kinesis:record", "invokeIdentityArn": ...,
     "awsRegion": ..., "eventSourceARN": ...}

Things a learner should notice: boto3 hands ``Data`` over as bytes and the
arrival time as a ``datetime``; Lambda's event is JSON, so the data is base64
and the time a number, exactly as a deployed handler will see them.
"""

from __future__ import annotations

import base64
from typing import Any

from shared_events.event_source_mapping.aws_errors import member
from shared_events.event_source_mapping.mappings import StartingPosition
from shared_events.event_source_mapping.shards import (
    ShardRead,
    StreamRecord,
    StreamSource,
    iso_millis,
)
from shared_events.transport.clients import client


class KinesisSource(StreamSource):
    batch_info_key = "KinesisBatchInfo"
    max_read_limit = 10_000

    def _client(self) -> Any:
        return client("kinesis", self.aws)

    def shard_ids(self) -> list[str]:
        shards, token = [], None
        while True:
            page = (
                self._client().list_shards(NextToken=token)
                if token
                else self._client().list_shards(StreamARN=self.runnable.source.arn)
            )
            shards += [
                shard["ShardId"] for shard in member(page, "Shards", call="ListShards")
            ]
            token = page.get("NextToken")
            if not token:
                return shards

    def iterator(
        self,
        shard_id: str,
        *,
        after: str | None,
        starting_position: StartingPosition,
    ) -> str:
        arguments: dict[str, Any] = {
            "StreamARN": self.runnable.source.arn,
            "ShardId": shard_id,
        }
        if after is None:
            arguments["ShardIteratorType"] = str(starting_position)
        else:
            arguments.update(
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                StartingSequenceNumber=after,
            )
        answer = self._client().get_shard_iterator(**arguments)
        return member(answer, "ShardIterator", call="GetShardIterator")

    def read(self, shard_id: str, iterator: str, *, limit: int) -> ShardRead:
        answer = self._client().get_records(
            ShardIterator=iterator,
            Limit=min(limit, self.max_read_limit),
            StreamARN=self.runnable.source.arn,
        )
        raws = member(answer, "Records", call="GetRecords")
        records = [self._record(shard_id, raw) for raw in raws]
        return ShardRead(records=records, next_iterator=answer.get("NextShardIterator"))

    def format_arrival(self, arrival: float) -> str:
        return iso_millis(arrival)

    def _record(self, shard_id: str, raw: dict[str, Any]) -> StreamRecord:
        source = self.runnable.source
        sequence_number = raw["SequenceNumber"]
        arrival = round(raw["ApproximateArrivalTimestamp"].timestamp(), 3)
        document = {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": raw["PartitionKey"],
                "sequenceNumber": sequence_number,
                "data": base64.b64encode(raw["Data"]).decode("ascii"),
                "approximateArrivalTimestamp": arrival,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard_id}:{sequence_number}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": (
                f"arn:aws:iam::{source.account}:role/{self.runnable.name}-role"
            ),
            "awsRegion": source.region,
            "eventSourceARN": source.arn,
        }
        return StreamRecord(
            shard_id=shard_id,
            sequence_number=sequence_number,
            arrival=arrival,
            document=document,
        )

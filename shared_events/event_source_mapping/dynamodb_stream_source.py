"""DynamoDB Streams as Lambda reads them, and the records it hands over.

``DescribeStream`` (the shards), ``GetShardIterator`` and ``GetRecords`` on the
``dynamodbstreams`` endpoint; each record becomes the document Lambda puts in
a DynamoDB event::

    {"eventID": ..., "eventName": "INSERT" | "MODIFY" | "REMOVE",
     "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": ...,
     "dynamodb": {"ApproximateCreationDateTime": <epoch seconds>, "Keys": ...,
                  "NewImage": ..., "OldImage": ..., "SequenceNumber": ...,
                  "SizeBytes": ..., "StreamViewType": ...},
     "eventSourceARN": <the stream's ARN>}

Things a learner should notice:

* The low-level client already answers in DynamoDB's typed JSON
  (``{"S": "x"}``, ``{"N": "1"}``, ``{"L": [...]}``); only what JSON cannot hold
  changes: binary values (``B``, ``BS``) become base64 text and the creation
  time an epoch number, whole seconds as DynamoDB Streams keeps it.
* A table's stream has shards of its own (moto keeps one per table, so its
  order looks global; AWS promises order per item only).
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
    iso_seconds,
)
from shared_events.transport.clients import client


class DynamoDBStreamSource(StreamSource):
    batch_info_key = "DDBStreamBatchInfo"
    max_read_limit = 1_000

    def _client(self) -> Any:
        return client("dynamodbstreams", self.aws)

    def shard_ids(self) -> list[str]:
        shards, last = [], None
        while True:
            arguments: dict[str, Any] = {"StreamArn": self.runnable.source.arn}
            if last:
                arguments["ExclusiveStartShardId"] = last
            description = self._client().describe_stream(**arguments)
            description = member(
                description, "StreamDescription", call="DescribeStream"
            )
            shards += [
                shard["ShardId"]
                for shard in member(description, "Shards", call="DescribeStream")
            ]
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards

    def iterator(
        self,
        shard_id: str,
        *,
        after: str | None,
        starting_position: StartingPosition,
    ) -> str:
        arguments: dict[str, Any] = {
            "StreamArn": self.runnable.source.arn,
            "ShardId": shard_id,
        }
        if after is None:
            arguments["ShardIteratorType"] = str(starting_position)
        else:
            arguments.update(
                ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after
            )
        answer = self._client().get_shard_iterator(**arguments)
        return member(answer, "ShardIterator", call="GetShardIterator")

    def read(self, shard_id: str, iterator: str, *, limit: int) -> ShardRead:
        answer = self._client().get_records(
            ShardIterator=iterator, Limit=min(limit, self.max_read_limit)
        )
        raws = member(answer, "Records", call="GetRecords")
        records = [self._record(shard_id, raw) for raw in raws]
        return ShardRead(records=records, next_iterator=answer.get("NextShardIterator"))

    def format_arrival(self, arrival: float) -> str:
        return iso_seconds(arrival)

    def _record(self, shard_id: str, raw: dict[str, Any]) -> StreamRecord:
        stream = raw["dynamodb"]
        arrival = int(stream["ApproximateCreationDateTime"].timestamp())
        change: dict[str, Any] = {"ApproximateCreationDateTime": arrival}
        for image in ("Keys", "NewImage", "OldImage"):
            if image in stream:
                change[image] = wire_item(stream[image])
        change.update(
            SequenceNumber=stream["SequenceNumber"],
            SizeBytes=stream["SizeBytes"],
            StreamViewType=stream["StreamViewType"],
        )
        document = {
            "eventID": raw["eventID"],
            "eventName": raw["eventName"],
            # What Lambda delivers, whatever the GetRecords answer said (moto: 1.0).
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.runnable.source.region,
            "dynamodb": change,
            "eventSourceARN": self.runnable.source.arn,
        }
        if "userIdentity" in raw:  # a deletion by TTL says who deleted
            document["userIdentity"] = raw["userIdentity"]
        return StreamRecord(
            shard_id=shard_id,
            sequence_number=stream["SequenceNumber"],
            arrival=float(arrival),
            document=document,
        )


def wire_item(item: dict[str, Any]) -> dict[str, Any]:
    """A typed item as DynamoDB's JSON wire format has it (binary as base64)."""
    return {name: wire_value(value) for name, value in item.items()}


def wire_value(value: dict[str, Any]) -> dict[str, Any]:
    ((type_name, content),) = value.items()
    if type_name == "B":
        return {"B": _base64(content)}
    if type_name == "BS":
        return {"BS": [_base64(member) for member in content]}
    if type_name == "L":
        return {"L": [wire_value(member) for member in content]}
    if type_name == "M":
        return {"M": wire_item(content)}
    return {type_name: content}


def _base64(content: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(bytes(content)).decode("ascii")

"""Looking into a DynamoDB event table on moto, and making it misbehave.

For the DynamoDB event store's tests: the items as the table holds them, the
records its stream carries (read over HTTP with the ``dynamodbstreams``
client, as a Lambda event source mapping reads them), those records as the
event Lambda would deliver, and a client whose ``PutItem`` is throttled,
because moto never throttles.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

THROTTLED = "ProvisionedThroughputExceededException"


class ThrottledPutItem:
    """A DynamoDB client whose ``PutItem`` answers as a throttled table does.

    Everything else goes to the real client. The error is the one the SDK
    raises once its own retries are spent; ``refused`` counts the calls.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self.refused = 0

    def put_item(self, **kwargs: Any) -> dict:
        self.refused += 1
        raise ClientError(
            {
                "Error": {
                    "Code": THROTTLED,
                    "Message": "The level of configured provisioned throughput for "
                    "the table was exceeded. Consider increasing your provisioning "
                    "level with the UpdateTable API.",
                },
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
            "PutItem",
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def table_items(dynamodb: Any, table_name: str) -> list[dict]:
    """Every item of the table, ordered by (aggregate id, version)."""
    items: list[dict] = []
    scan: dict[str, Any] = {"TableName": table_name, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**scan)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda i: (i["aggregate_id"]["S"], int(i["version"]["N"])))


def stream_arn(dynamodb: Any, table_name: str) -> str:
    return dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]


def stream_records(streams: Any, arn: str) -> list[dict]:
    """Every record of the stream so far, oldest first (moto: one shard)."""
    records: list[dict] = []
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            if not page["Records"]:
                break
            records += page["Records"]
            iterator = page.get("NextShardIterator")
    return records


def lambda_event(records: list[dict], *, arn: str) -> dict[str, Any]:
    """The DynamoDB Streams event Lambda delivers for ``records``.

    ``GetRecords`` and Lambda differ in two places: Lambda adds each
    record's ``eventSourceARN``, and its ``ApproximateCreationDateTime`` is
    epoch seconds, where boto3 hands back a datetime.
    """
    delivered = []
    for record in records:
        stream = dict(record["dynamodb"])
        created = stream.get("ApproximateCreationDateTime")
        if created is not None and not isinstance(created, int | float):
            stream["ApproximateCreationDateTime"] = int(created.timestamp())
        delivered.append({**record, "dynamodb": stream, "eventSourceARN": arn})
    return {"Records": delivered}

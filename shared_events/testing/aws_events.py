"""AWS's event documents for Lambda handler tests, from recorded samples.

The samples in ``shared_events/consume/tests/aws_events/`` are the shapes
AWS's Lambda developer guide documents for an SQS message (raw, and wrapped
in an SNS notification), a Kinesis record and a DynamoDB Streams record (the
commit item of the event table, as the design fixes it). ``aws_event`` copies
the sample record once per body and fills in what the samples leave as
placeholders: the body, its MD5, the ids, the base64 data, the commit item.
Everything else stays as AWS sends it, so a handler that only works on a
hand-made dictionary fails here.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "consume" / "tests" / "aws_events"
#: The shapes, each a sample file ``<shape>.json``.
SQS = "sqs"
SQS_SNS_WRAPPED = "sqs_sns_wrapped"
KINESIS = "kinesis"
DYNAMODB_STREAM = "dynamodb_stream"
SHAPES = (SQS, SQS_SNS_WRAPPED, KINESIS, DYNAMODB_STREAM)

# Stream sequence numbers only grow; AWS's are large decimal strings.
_sequence_numbers = itertools.count(49590338271490256608559692538361571095921575989)


@cache
def _sample(shape: str) -> str:
    return (SAMPLES_DIR / f"{shape}.json").read_text()


def recorded(shape: str) -> dict[str, Any]:
    """The recorded sample document of ``shape``, as stored."""
    return json.loads(_sample(shape))


def aws_event(shape: str, records: Sequence[str | Sequence[str]]) -> dict[str, Any]:
    """AWS's event document of ``shape`` with one record per entry of ``records``.

    An entry is the body a record delivers (an envelope's JSON, or anything
    else, to test poison). For ``dynamodb_stream`` a record is one commit, so
    an entry may also be a list of bodies: the commit's events.
    """
    document = recorded(shape)
    template = document["Records"][0]
    document["Records"] = [_record(shape, template, entry) for entry in records]
    return document


def item_identifiers(event: dict[str, Any]) -> list[str]:
    """What ``batchItemFailures`` names each record of ``event`` by, in order."""
    identifiers = []
    for record in event["Records"]:
        if "messageId" in record:
            identifiers.append(record["messageId"])
        elif "kinesis" in record:
            identifiers.append(record["kinesis"]["sequenceNumber"])
        else:
            identifiers.append(record["dynamodb"]["SequenceNumber"])
    return identifiers


def failures(*identifiers: str) -> dict[str, list[dict[str, str]]]:
    """The partial batch response naming ``identifiers`` as failed."""
    return {"batchItemFailures": [{"itemIdentifier": i} for i in identifiers]}


def _record(shape: str, template: dict, entry: str | Sequence[str]) -> dict:
    record = copy.deepcopy(template)
    bodies = [entry] if isinstance(entry, str) else list(entry)
    if shape != DYNAMODB_STREAM and len(bodies) != 1:
        raise ValueError(f"a {shape} record carries one body, not {len(bodies)}")
    fill = {
        SQS: _sqs,
        SQS_SNS_WRAPPED: _sqs_sns_wrapped,
        KINESIS: _kinesis,
        DYNAMODB_STREAM: _dynamodb_stream,
    }[shape]
    fill(record, bodies)
    return record


def _fields(body: str) -> dict[str, Any]:
    """The envelope fields a body carries, or {} for a body that is none."""
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _sqs_message(record: dict, body: str) -> None:
    record["messageId"] = str(uuid.uuid4())
    record["receiptHandle"] = base64.b64encode(uuid.uuid4().bytes * 4).decode()
    record["body"] = body
    record["md5OfBody"] = hashlib.md5(body.encode()).hexdigest()


def _sqs(record: dict, bodies: list[str]) -> None:
    [body] = bodies
    _sqs_message(record, body)
    fields = _fields(body)
    attributes = record["messageAttributes"]
    for name in list(attributes):
        if name in fields:
            attributes[name]["stringValue"] = str(fields[name])
        else:
            del attributes[name]  # a publisher sends no attribute it lacks


def _sqs_sns_wrapped(record: dict, bodies: list[str]) -> None:
    [body] = bodies
    notification = json.loads(record["body"])
    notification["MessageId"] = str(uuid.uuid4())
    notification["Message"] = body
    fields = _fields(body)
    attributes = notification["MessageAttributes"]
    for name in list(attributes):
        if name in fields:
            attributes[name]["Value"] = str(fields[name])
        else:
            del attributes[name]
    _sqs_message(record, json.dumps(notification, indent=2))


def _kinesis(record: dict, bodies: list[str]) -> None:
    [body] = bodies
    sequence_number = str(next(_sequence_numbers))
    shard = record["eventID"].split(":")[0]
    kinesis = record["kinesis"]
    kinesis["partitionKey"] = str(_fields(body).get("aggregate_id", "poison"))
    kinesis["sequenceNumber"] = sequence_number
    kinesis["data"] = base64.b64encode(body.encode()).decode()
    kinesis["approximateArrivalTimestamp"] = round(time.time(), 3)
    record["eventID"] = f"{shard}:{sequence_number}"


def _dynamodb_stream(record: dict, bodies: list[str]) -> None:
    """One commit item of the event table, its bodies as the commit's events."""
    first = _fields(bodies[0])
    aggregate_id = str(first.get("aggregate_id", uuid.uuid4()))
    version = int(first.get("aggregate_version", 1))
    image = record["dynamodb"]["NewImage"]
    image["aggregate_id"] = {"S": aggregate_id}
    image["version"] = {"N": str(version)}
    image["last_version"] = {"N": str(version + len(bodies) - 1)}
    image["aggregate_type"] = {"S": str(first.get("aggregate_type", "Customer"))}
    image["producer"] = {"S": str(first.get("producer", "customer"))}
    image["committed_at"] = {"S": datetime.now(UTC).isoformat(timespec="microseconds")}
    image["events"] = {"L": [{"S": body} for body in bodies]}
    stream = record["dynamodb"]
    stream["Keys"] = {
        "aggregate_id": image["aggregate_id"],
        "version": image["version"],
    }
    stream["SequenceNumber"] = str(next(_sequence_numbers))
    stream["SizeBytes"] = len(json.dumps(image))
    stream["ApproximateCreationDateTime"] = int(time.time())
    record["eventID"] = uuid.uuid4().hex

"""From a mapping's names to what the runner polls: URLs, ARNs and a callable.

Things a learner should notice:

* Names become addresses by asking AWS (``GetQueueUrl``,
  ``DescribeStreamSummary``, ``DescribeTable``), the same calls against moto
  and against real AWS. Nothing here builds an ARN by string formatting.
* A handler is named by dotted path, as Lambda's ``Handler`` property names
  it, and imported once; the runner calls it in-process.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared_events.event_source_mapping.mappings import (
    EventSourceMapping,
    SourceKind,
)
from shared_events.transport.clients import AwsSettings, client

#: ``handler(event, context) -> {"batchItemFailures": [...]}`` (or None).
Handler = Callable[[dict[str, Any], Any], Any]


class SourceNotFound(LookupError):
    """The queue, stream or table a mapping names does not exist (yet)."""


@dataclass(frozen=True)
class ResolvedSource:
    """Where a mapping reads from.

    ``arn`` is the event's ``eventSourceARN``; ``queue_url`` is set for SQS;
    ``identity`` tells one incarnation of a stream from the next (checkpoints).
    """

    arn: str
    identity: str
    queue_url: str | None = None

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


@dataclass(frozen=True)
class RunnableMapping:
    """A mapping with its source resolved and its handler loaded."""

    mapping: EventSourceMapping
    source: ResolvedSource
    handler: Handler
    on_failure_queue_url: str | None = None

    @property
    def name(self) -> str:
        return self.mapping.name

    @property
    def function_arn(self) -> str:
        """The ARN Lambda would give the function (in the on-failure record)."""
        region, account = self.source.region, self.source.account
        return f"arn:aws:lambda:{region}:{account}:function:{self.mapping.name}"


def load_handler(dotted_path: str) -> Handler:
    """Import ``package.module.function`` and return the function."""
    module_name, _, attribute = dotted_path.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute, None)
    if not callable(handler):
        raise ImportError(f"{dotted_path} is not a callable handler")
    return handler


def resolve_mapping(
    mapping: EventSourceMapping, *, aws: AwsSettings, handler: Handler | None = None
) -> RunnableMapping:
    """Resolve ``mapping`` against AWS; import its handler unless one is given."""
    return RunnableMapping(
        mapping=mapping,
        source=resolve_source(mapping, aws=aws),
        handler=handler or load_handler(mapping.function),
        on_failure_queue_url=(
            queue_url(mapping.on_failure_queue, aws=aws)
            if mapping.on_failure_queue
            else None
        ),
    )


def resolve_source(mapping: EventSourceMapping, *, aws: AwsSettings) -> ResolvedSource:
    name = mapping.source_name
    if mapping.source_kind is SourceKind.SQS:
        url = queue_url(name, aws=aws)
        attributes = client("sqs", aws).get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"]
        )["Attributes"]
        return ResolvedSource(
            arn=attributes["QueueArn"], identity=attributes["QueueArn"], queue_url=url
        )
    if mapping.source_kind is SourceKind.KINESIS:
        kinesis = client("kinesis", aws)
        try:
            summary = kinesis.describe_stream_summary(StreamName=name)
        except kinesis.exceptions.ResourceNotFoundException as error:
            raise SourceNotFound(f"Kinesis stream {name!r} does not exist") from error
        description = summary["StreamDescriptionSummary"]
        created = description["StreamCreationTimestamp"].timestamp()
        return ResolvedSource(
            arn=description["StreamARN"],
            identity=f"{description['StreamARN']}@{created:.3f}",
        )
    dynamodb = client("dynamodb", aws)
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException as error:
        raise SourceNotFound(f"DynamoDB table {name!r} does not exist") from error
    stream_arn = table.get("LatestStreamArn")
    if not stream_arn:
        raise SourceNotFound(f"DynamoDB table {name!r} has no stream enabled")
    # The stream's ARN ends in its creation time: it is its own identity.
    return ResolvedSource(arn=stream_arn, identity=stream_arn)


def queue_url(name: str, *, aws: AwsSettings) -> str:
    sqs = client("sqs", aws)
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist as error:
        raise SourceNotFound(f"SQS queue {name!r} does not exist") from error

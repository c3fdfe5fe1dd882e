"""Publishing events to a Kinesis Data Stream: the publisher port's third adapter.

It implements ``shared_events.transport.publisher.EventPublisher`` like the SNS
and SQS adapters (``aws_publishers``): the relay learns *exactly* which messages
the stream accepted, and an outage is an answer, never an exception. Plain
Python: no Django.

Things a learner should notice:

* The partition key is the aggregate id. Kinesis hashes it to a shard, so all
  events of one aggregate land in one shard, in the order they were written. A
  sequence number orders records *within one shard* only: it says nothing about
  two records of two shards (two aggregates), and it is a decimal string to be
  compared as an integer, never as text ("10" < "9" as strings).
* ``PutRecords`` can succeed as a call while some of its records failed: the
  answer has ``FailedRecordCount`` > 0, and each failed entry carries an
  ``ErrorCode`` (``ProvisionedThroughputExceededException`` when a shard is over
  its write limit, ``InternalFailure``) instead of a ``SequenceNumber``. Only the
  failed records are sent again, a bounded number of times with backoff: a record
  that got a sequence number is on the stream, and sending it again would
  duplicate it.
* ``PutRecords`` does not keep order within one request once a record fails: a
  later record of the same key can be written while an earlier one was
  throttled. So one request carries at most *one record per aggregate*; the next
  version of that aggregate waits for the earlier one's sequence number. Records
  of different aggregates share a request freely (up to 500 records, 5 MiB), so a
  relay batch of many aggregates still takes one request.
* Once a record of an aggregate finally fails, every later record of that
  aggregate in this call is held back ("held behind <id>"), or it would overtake
  the failed one on the stream; the other aggregates go on. The guarantee
  holds within one call: the relay retries the failed and the held-back rows in
  later calls, so consumers still check each aggregate's versions.
* Limits AWS would answer with an error for the *whole* request are checked
  first: a record over 1 MiB (data plus partition key) or with an unusable
  partition key fails alone, before sending, instead of failing its neighbours.
* A whole-call error (connection refused, throttling after the client's own
  retries, a stream that does not exist) fails every message not yet accepted,
  with the reason, and is *returned*: "the stream is unreachable" is an expected
  answer.
* A Kinesis record has no message attributes, only a partition key and a blob:
  the blob is the envelope, which carries ``event_type`` and the rest already.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared_events.transport.aws_publishers import chunk_messages, client_error_reason
from shared_events.transport.clients import AwsSettings, client
from shared_events.transport.publisher import (
    EventPublisher,
    OutgoingMessage,
    PublishResult,
)

MAX_RECORDS_PER_REQUEST = 500
MAX_REQUEST_BYTES = 5 * 1024 * 1024
#: Per record, data and partition key together.
MAX_RECORD_BYTES = 1024 * 1024
MAX_PARTITION_KEY_CHARACTERS = 256

#: For one request: message id -> None (on the stream) or the reason it failed.
RequestOutcome = dict[str, str | None]


class KinesisPublisher(EventPublisher):
    """Writes to one stream with ``PutRecords``; partition key = aggregate id.

    ``attempts`` counts every try of one record (the first included), with a
    pause of ``backoff_seconds`` before the second try, doubling after that.
    ``kinesis`` replaces the shared boto3 client (a test wraps the real one to
    inject failures moto never produces).
    """

    def __init__(
        self,
        stream_name: str,
        settings: AwsSettings,
        *,
        attempts: int = 3,
        backoff_seconds: float = 0.05,
        max_records_per_request: int = MAX_RECORDS_PER_REQUEST,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        kinesis: Any | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts counts the first try: it must be >= 1")
        self.stream_name = stream_name
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.max_records_per_request = max_records_per_request
        self.max_request_bytes = max_request_bytes
        self._kinesis = kinesis if kinesis is not None else client("kinesis", settings)

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> PublishResult:
        ids = [message.id for message in messages]
        if len(set(ids)) != len(ids):
            raise ValueError("every message in one publish_batch call needs its own id")
        outcome: dict[str, str | None] = {}
        # Each aggregate's messages, in order; only the head of a queue is sent.
        queues: dict[str, deque[OutgoingMessage]] = {}
        for message in messages:
            queues.setdefault(message.group_id, deque()).append(message)
        tries: dict[str, int] = {}
        while queues:
            heads = self._sendable_heads(queues, outcome)
            if not heads:
                break
            self._back_off(max(tries.get(head.id, 0) for head in heads))
            outage = self._send_heads(heads, queues, tries, outcome)
            if outage is not None:
                for queue in queues.values():
                    for message in queue:
                        outcome.setdefault(message.id, f"not sent: {outage}")
                break
        return _result_in_order(messages, outcome)

    def _sendable_heads(
        self,
        queues: dict[str, deque[OutgoingMessage]],
        outcome: dict[str, str | None],
    ) -> list[OutgoingMessage]:
        """The next record of every aggregate; one that cannot be sent fails here."""
        heads = []
        for key in list(queues):
            head = queues[key][0]
            problem = invalid_record_reason(head)
            if problem is None:
                heads.append(head)
            else:
                _fail_with_followers(queues.pop(key), problem, outcome)
        return heads

    def _back_off(self, tries_so_far: int) -> None:
        if tries_so_far > 0:
            time.sleep(self.backoff_seconds * 2 ** (tries_so_far - 1))

    def _send_heads(
        self,
        heads: list[OutgoingMessage],
        queues: dict[str, deque[OutgoingMessage]],
        tries: dict[str, int],
        outcome: dict[str, str | None],
    ) -> str | None:
        """Send one record per aggregate; advance or fail each aggregate's queue.

        Returns the reason of a whole-call error, after which nothing more is sent.
        """
        requests = chunk_messages(
            heads,
            max_entries=self.max_records_per_request,
            max_bytes=self.max_request_bytes,
            size_of=record_size,
        )
        for request in requests:
            answers, outage = self._put_records(request)
            if outage is not None:
                outcome.update({message.id: outage for message in request})
                for message in request:
                    queues[message.group_id].popleft()
                return outage
            for message in request:
                key, reason = message.group_id, answers[message.id]
                tries[message.id] = tries.get(message.id, 0) + 1
                if reason is None:
                    outcome[message.id] = None
                    queues[key].popleft()
                    if not queues[key]:
                        del queues[key]
                elif tries[message.id] >= self.attempts:
                    reason = f"{reason} (after {tries[message.id]} attempts)"
                    _fail_with_followers(queues.pop(key), reason, outcome)
        return None

    def _put_records(
        self, request: list[OutgoingMessage]
    ) -> tuple[RequestOutcome, str | None]:
        """One ``PutRecords`` call: each record's outcome, or a whole-call error."""
        try:
            response = self._kinesis.put_records(
                StreamName=self.stream_name,
                Records=[
                    {"Data": message.body.encode(), "PartitionKey": message.group_id}
                    for message in request
                ],
            )
        except ClientError as error:
            return {}, client_error_reason(error)
        except BotoCoreError as error:
            return {}, f"{type(error).__name__}: {error}"
        entries = response.get("Records", [])
        answers: RequestOutcome = {}
        for position, message in enumerate(request):
            entry = entries[position] if position < len(entries) else {}
            answers[message.id] = _entry_failure_reason(entry)
        return answers, None


# --- helpers --------------------------------------------------------------------


def record_size(message: OutgoingMessage) -> int:
    """Bytes Kinesis counts against its limits: the data and the partition key."""
    return len(message.body.encode()) + len(message.group_id.encode())


def invalid_record_reason(message: OutgoingMessage) -> str | None:
    """Why Kinesis would reject this record for the whole request, or None."""
    if not 1 <= len(message.group_id) <= MAX_PARTITION_KEY_CHARACTERS:
        return (
            f"invalid record: the partition key (aggregate id) must be 1 to "
            f"{MAX_PARTITION_KEY_CHARACTERS} characters, not {len(message.group_id)}"
        )
    if not message.body:
        return "invalid record: the body is empty"
    size = record_size(message)
    if size > MAX_RECORD_BYTES:
        return (
            f"invalid record: {size} bytes of data and partition key, over "
            f"Kinesis's {MAX_RECORD_BYTES} bytes per record"
        )
    return None


def _entry_failure_reason(entry: Mapping[str, Any]) -> str | None:
    """None for a record with a sequence number, else ``ErrorCode: ErrorMessage``."""
    if entry.get("ErrorCode"):
        return f"{entry['ErrorCode']}: {entry.get('ErrorMessage', '')}"
    if entry.get("SequenceNumber"):
        return None
    return "the stream did not answer for this record"


def _fail_with_followers(
    queue: deque[OutgoingMessage], reason: str, outcome: dict[str, str | None]
) -> None:
    """Fail the head of an aggregate's queue, and hold back everything behind it."""
    failed = queue.popleft()
    outcome[failed.id] = reason
    for later in queue:
        outcome[later.id] = (
            f"not sent: held behind {failed.id}, an earlier record of aggregate "
            f"{failed.group_id} that failed"
        )


def _result_in_order(
    messages: Sequence[OutgoingMessage], outcome: Mapping[str, str | None]
) -> PublishResult:
    result = PublishResult()
    for message in messages:
        reason = outcome[message.id]
        if reason is None:
            result.accepted.append(message.id)
        else:
            result.failed[message.id] = reason
    return result

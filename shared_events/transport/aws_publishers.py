"""Publishing events to AWS: the publisher port's SNS and SQS adapters.

They implement ``shared_events.transport.publisher.EventPublisher``: the
relay learns *exactly* which messages the broker accepted, and an outage is
an answer, never an exception. Plain Python: no Django.

Things a learner should notice:

* A batch call can succeed as a whole (HTTP 200) while some of its entries failed:
  the answer has a ``Successful`` and a ``Failed`` list, and an entry missing from
  both was not accepted either. Reading only the status code loses events.
* A whole-call error (connection refused, a timeout, throttling after the client's
  retries) fails every message of that batch, with the reason, and is *returned*,
  not raised: "the broker is down" is an expected answer, not a crash. After a
  network-level error the remaining batches are not even tried.
* AWS limits a batch to 10 entries and 256 KiB in total, so messages are chunked;
  batch entry ids are positions (``m0`` .. ``m9``), because an event id need not fit
  the entry-id alphabet ``[A-Za-z0-9_-]{1,80}``, and the answer is mapped back.
* A message AWS would reject for the *whole* batch (an empty attribute value,
  characters XML cannot carry) is failed on its own before sending, so one poison
  message cannot keep nine good ones from ever being published.
* FIFO: the message group is the aggregate id (order per aggregate), and the
  deduplication id is the event id, so a relay that re-publishes after a crash does
  not create a duplicate (within the 5-minute deduplication window). Once a message
  of a group fails, later messages of that group are held back in this call, or
  they would overtake it.
* ``SqsPublisher`` without SNS sends each batch to every subscribing queue; a
  message counts as accepted only if every queue accepted it. If one queue took it
  and another did not, the retry duplicates it in the first queue: consumers must
  be idempotent, and this is the bookkeeping SNS fan-out saves the producer.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared_events.transport.clients import AwsSettings, client
from shared_events.transport.publisher import (
    EventPublisher,
    OutgoingMessage,
    PublishResult,
)

MAX_BATCH_ENTRIES = 10
#: SNS PublishBatch and (historically) SQS SendMessageBatch: 256 KiB per request.
MAX_BATCH_BYTES = 256 * 1024
MAX_MESSAGE_ATTRIBUTES = 10
ATTRIBUTE_DATA_TYPE = "String"

# Characters SQS and SNS accept in a body or attribute value (the XML 1.0 set).
_INVALID_CHARACTERS = re.compile(
    "[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
# MessageGroupId and MessageDeduplicationId: printable ASCII without spaces.
_FIFO_ID = re.compile(r"^[!-~]{1,128}$")


# --- AWS adapters ---------------------------------------------------------------

#: For one batch: message id -> None (accepted) or the reason it failed.
BatchOutcome = dict[str, str | None]


class _BatchingPublisher(EventPublisher):
    """Chunking, local checks, FIFO ordering and outage handling, shared by both."""

    def __init__(self, *, fifo: bool, max_batch_bytes: int) -> None:
        self.fifo = fifo
        self.max_batch_bytes = max_batch_bytes

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> PublishResult:
        ids = [message.id for message in messages]
        if len(set(ids)) != len(ids):
            raise ValueError("every message in one publish_batch call needs its own id")
        result = PublishResult()
        failed_groups: set[str] = set()
        outage: str | None = None
        sendable: list[OutgoingMessage] = []
        for message in messages:
            problem = invalid_message_reason(message, fifo=self.fifo)
            if problem is not None:
                result.failed[message.id] = problem
                failed_groups.add(message.group_id)
            else:
                sendable.append(message)
        for batch in chunk_messages(sendable, max_bytes=self.max_batch_bytes):
            if outage is not None:
                result.failed.update({m.id: f"not sent: {outage}" for m in batch})
                continue
            if self.fifo:
                batch = self._hold_back_failed_groups(batch, failed_groups, result)
            if not batch:
                continue
            outcome, outage = self._send(batch)
            for message in batch:
                reason = outcome[message.id]
                if reason is None:
                    result.accepted.append(message.id)
                else:
                    result.failed[message.id] = reason
                    failed_groups.add(message.group_id)
        return result

    @staticmethod
    def _hold_back_failed_groups(
        batch: list[OutgoingMessage], failed_groups: set[str], result: PublishResult
    ) -> list[OutgoingMessage]:
        """FIFO: a message must not overtake an earlier one of its group that failed."""
        to_send = []
        for message in batch:
            if message.group_id in failed_groups:
                result.failed[message.id] = (
                    f"not sent: an earlier message of group {message.group_id} failed"
                )
            else:
                to_send.append(message)
        return to_send

    @abstractmethod
    def _send(self, batch: list[OutgoingMessage]) -> tuple[BatchOutcome, str | None]:
        """Send one chunk; return its outcome and a network error reason, if any."""

    def _fifo_fields(self, message: OutgoingMessage) -> dict[str, str]:
        if not self.fifo:
            return {}
        return {
            "MessageGroupId": message.group_id,
            "MessageDeduplicationId": message.id,
        }


class SnsPublisher(_BatchingPublisher):
    """Publishes to one SNS topic with ``PublishBatch``; SNS fans out to the inboxes."""

    def __init__(
        self,
        topic_arn: str,
        settings: AwsSettings,
        fifo: bool,
        *,
        max_batch_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        super().__init__(fifo=fifo, max_batch_bytes=max_batch_bytes)
        self.topic_arn = topic_arn
        self._sns = client("sns", settings)

    def _send(self, batch: list[OutgoingMessage]) -> tuple[BatchOutcome, str | None]:
        entries = [
            {
                "Id": entry_id,
                "Message": message.body,
                "MessageAttributes": _message_attributes(message),
                **self._fifo_fields(message),
            }
            for entry_id, message in _with_entry_ids(batch)
        ]
        return _call_batch(
            batch,
            lambda: self._sns.publish_batch(
                TopicArn=self.topic_arn, PublishBatchRequestEntries=entries
            ),
        )


class SqsPublisher(_BatchingPublisher):
    """Sends straight to SQS queues with ``SendMessageBatch``: no SNS in between.

    Every batch goes to every queue in ``queue_urls``; a message is accepted only
    if all of them accepted it. With no queues (nobody subscribes) every message is
    accepted, as SNS accepts a publish to a topic without subscribers.
    """

    def __init__(
        self,
        queue_urls: Sequence[str],
        settings: AwsSettings,
        fifo: bool,
        *,
        max_batch_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        super().__init__(fifo=fifo, max_batch_bytes=max_batch_bytes)
        self.queue_urls = list(queue_urls)
        self._sqs = client("sqs", settings)

    def _send(self, batch: list[OutgoingMessage]) -> tuple[BatchOutcome, str | None]:
        entries = [
            {
                "Id": entry_id,
                "MessageBody": message.body,
                "MessageAttributes": _message_attributes(message),
                **self._fifo_fields(message),
            }
            for entry_id, message in _with_entry_ids(batch)
        ]
        combined: BatchOutcome = {message.id: None for message in batch}
        for queue_url in self.queue_urls:
            outcome, network_error = _call_batch(
                batch,
                lambda queue_url=queue_url: self._sqs.send_message_batch(
                    QueueUrl=queue_url, Entries=entries
                ),
            )
            queue_name = queue_url.rstrip("/").rsplit("/", 1)[-1]
            for message_id, reason in outcome.items():
                if reason is not None:
                    earlier = combined[message_id]
                    here = f"{queue_name}: {reason}"
                    combined[message_id] = f"{earlier}; {here}" if earlier else here
            if network_error is not None:
                return combined, network_error
        return combined, None


# --- helpers --------------------------------------------------------------------


def message_size(message: OutgoingMessage) -> int:
    """Bytes AWS counts against the size limit: body, attribute names, types, values."""
    size = len(message.body.encode())
    for name, value in message.attributes.items():
        size += len(name.encode()) + len(ATTRIBUTE_DATA_TYPE) + len(value.encode())
    return size


def chunk_messages(
    messages: Sequence[OutgoingMessage],
    *,
    max_entries: int = MAX_BATCH_ENTRIES,
    max_bytes: int = MAX_BATCH_BYTES,
    size_of: Callable[[OutgoingMessage], int] = message_size,
) -> list[list[OutgoingMessage]]:
    """Split into consecutive batches of at most ``max_entries`` and ``max_bytes``.

    Order is kept. A message larger than ``max_bytes`` on its own travels alone,
    and the broker decides about it, so it can only fail by itself. ``size_of``
    is how the broker counts a message's bytes (SNS and SQS by default).
    """
    batches: list[list[OutgoingMessage]] = []
    current: list[OutgoingMessage] = []
    current_bytes = 0
    for message in messages:
        size = size_of(message)
        if current and (
            len(current) >= max_entries or current_bytes + size > max_bytes
        ):
            batches.append(current)
            current, current_bytes = [], 0
        current.append(message)
        current_bytes += size
    if current:
        batches.append(current)
    return batches


def invalid_message_reason(message: OutgoingMessage, *, fifo: bool) -> str | None:
    """Why AWS would reject this message for the whole batch, or None if it is fine."""
    if fifo:
        for label, value in (("group id", message.group_id), ("event id", message.id)):
            if not _FIFO_ID.match(value):
                return (
                    f"invalid message: FIFO {label} {value!r} must be 1 to 128 "
                    "printable ASCII characters"
                )
    if not message.body:
        return "invalid message: the body is empty"
    if _INVALID_CHARACTERS.search(message.body):
        return "invalid message: the body has characters SQS and SNS do not accept"
    if len(message.attributes) > MAX_MESSAGE_ATTRIBUTES:
        return f"invalid message: more than {MAX_MESSAGE_ATTRIBUTES} attributes"
    for name, value in message.attributes.items():
        if not _ATTRIBUTE_NAME.match(name) or name.lower().startswith(
            ("aws.", "amazon.")
        ):
            return f"invalid message: attribute name {name!r} is not allowed"
        if not value:
            return f"invalid message: attribute {name!r} has an empty value"
        if _INVALID_CHARACTERS.search(value):
            return f"invalid message: attribute {name!r} has invalid characters"
    return None


def _message_attributes(message: OutgoingMessage) -> dict[str, dict[str, str]]:
    return {
        name: {"DataType": ATTRIBUTE_DATA_TYPE, "StringValue": value}
        for name, value in message.attributes.items()
    }


def _with_entry_ids(
    batch: list[OutgoingMessage],
) -> Iterator[tuple[str, OutgoingMessage]]:
    for position, message in enumerate(batch):
        yield f"m{position}", message


def _call_batch(
    batch: list[OutgoingMessage], call: Callable[[], dict[str, Any]]
) -> tuple[BatchOutcome, str | None]:
    """Make one batch call and map its answer back to message ids.

    Returns the outcome and, for a network-level failure, its reason (so that the
    caller can stop trying further batches).
    """
    try:
        response = call()
    except ClientError as error:
        reason = client_error_reason(error)
        return {message.id: reason for message in batch}, None
    except BotoCoreError as error:
        reason = f"{type(error).__name__}: {error}"
        return {message.id: reason for message in batch}, reason
    succeeded = {entry["Id"] for entry in response.get("Successful", [])}
    failed = {
        entry["Id"]: _entry_failure_reason(entry)
        for entry in response.get("Failed", [])
    }
    outcome: BatchOutcome = {}
    for entry_id, message in _with_entry_ids(batch):
        if entry_id in failed:
            outcome[message.id] = failed[entry_id]
        elif entry_id in succeeded:
            outcome[message.id] = None
        else:
            outcome[message.id] = "the broker did not answer for this entry"
    return outcome, None


def client_error_reason(error: ClientError) -> str:
    details = error.response.get("Error", {})
    code = details.get("Code", "Unknown")
    return f"{code}: {details.get('Message', str(error))}"


def _entry_failure_reason(entry: Mapping[str, Any]) -> str:
    """``Code: Message``, marked when AWS says the sender is at fault.

    A sender fault (an invalid message) will fail again if retried unchanged; any
    other failure is worth retrying.
    """
    fault = " [sender fault]" if entry.get("SenderFault") else ""
    return f"{entry.get('Code', 'Unknown')}: {entry.get('Message', '')}{fault}"

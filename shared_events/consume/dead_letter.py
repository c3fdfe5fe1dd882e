"""What a consumer gives up on: the event read from a body, the dead letter sent.

Shared by the SQS consumer (``consumer``) and the Lambda handlers
(``lambda_handler``), so both refuse the same bodies for the same reasons and
a dead letter looks the same whoever sent it. What a learner should notice:

* ``read_event`` is the only place that decides a body is *poison*: not a
  valid, registered envelope, or an aggregate id that is not a UUID (the
  consumer's records key aggregates by UUID); or *untrusted*: unsigned,
  signed by a key this consumer does not trust for its producer, changed
  after it was signed, from a service that does not own its aggregate, or
  naming another aggregate than its payload. No retry can fix such a body, so
  it is never handed to the event handlers: whatever arrives on a queue or a
  stream, only what its owner signed takes effect.
* ``poison_reason`` is the reason a dead letter carries: ``invalid event: ...``
  or ``untrusted event: ...``.
* ``send_dead_letter`` keeps the body exactly as it arrived and the message's
  own attributes, and adds the reason as the attribute ``failure_reason``:
  what ``manage.py dead_letters list`` shows, and what a redrive strips again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from shared_events.event_keys import verifying_keys
from shared_events.events import EventEnvelope, InvalidEvent, UntrustedEvent, from_json
from shared_events.transport.dead_letters import FAILURE_REASON

#: SQS allows ten attributes a message, the reason included.
MAX_MESSAGE_ATTRIBUTES = 10
MAX_REASON_CHARS = 1000


def envelope_text(body: str) -> str:
    """The envelope a message body carries: the body itself (SNS raw
    delivery, or sent straight to the queue), or the ``Message`` of an SNS
    notification (a subscription without raw delivery wraps it)."""
    try:
        document = json.loads(body)
    except ValueError:
        return body  # not JSON: read_event says why
    if (
        isinstance(document, dict)
        and document.get("Type") == "Notification"
        and isinstance(document.get("Message"), str)
    ):
        return document["Message"]
    return body


def read_event(body: str | bytes) -> EventEnvelope:
    """The envelope a message body carries, verified against the keys this
    process trusts; ``InvalidEvent`` (``UntrustedEvent``) with the reason if it
    is poison."""
    envelope = from_json(body, verifying_keys=verifying_keys())
    try:
        UUID(envelope.aggregate_id)
    except ValueError:
        # The envelope schema allows any string; the consumer's records key
        # aggregates by UUID, so anything else is a bad event, not a handler
        # failure. (check_provenance, in from_json, refuses it already.)
        raise InvalidEvent(
            f"aggregate_id: {envelope.aggregate_id!r} is not a UUID"
        ) from None
    return envelope


def poison_reason(error: InvalidEvent) -> str:
    """What a dead letter says about a body ``read_event`` refused."""
    kind = "untrusted event" if isinstance(error, UntrustedEvent) else "invalid event"
    return f"{kind}: {error}"


def dead_letter_attributes(
    attributes: Mapping[str, dict], *, reason: str
) -> dict[str, dict]:
    """The message's own attributes (SendMessage's shape) plus ``failure_reason``.

    A reason from an earlier failure is replaced; when the message already has
    ten attributes, the last ones by name make room for the reason.
    """
    kept = {name: value for name, value in attributes.items() if name != FAILURE_REASON}
    while len(kept) >= MAX_MESSAGE_ATTRIBUTES:
        kept.pop(sorted(kept)[-1])
    kept[FAILURE_REASON] = {
        "DataType": "String",
        "StringValue": reason[:MAX_REASON_CHARS],
    }
    return kept


def send_dead_letter(
    sqs: Any,
    *,
    queue_url: str,
    body: str,
    reason: str,
    deduplication_id: str,
    attributes: Mapping[str, dict] | None = None,
    group_id: str | None = None,
) -> None:
    """Send ``body`` to the dead-letter queue at ``queue_url`` with the reason.

    A FIFO dead-letter queue needs a message group (the original one, else
    ``dead-letter``) and a deduplication id (the original message's id, so a
    retried send is not a second letter).
    """
    extra = {}
    if queue_url.endswith(".fifo"):
        extra = {
            "MessageGroupId": group_id or "dead-letter",
            "MessageDeduplicationId": deduplication_id,
        }
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=body,
        MessageAttributes=dead_letter_attributes(attributes or {}, reason=reason),
        **extra,
    )

"""A publisher that records a *publish* span per event around the real one.

The relay, the stream relay and the direct publish all get their publisher
from ``messaging.event_publisher``, which wraps it in this one when tracing
is on: each event's span continues the trace its envelope carries, and the
broker call below it (botocore's span) shows what one batch cost
(``shared_events.telemetry.tracing.publishing``). The trace context is read
from the message body, the signed envelope as stored: nothing is added to
what the broker carries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from shared_events.telemetry.tracing import publishing
from shared_events.transport.publisher import (
    EventPublisher,
    OutgoingMessage,
    PublishResult,
)


class TracedPublisher(EventPublisher):
    def __init__(self, inner: EventPublisher, *, system: str, destination: str):
        self.inner = inner
        self.system = system
        self.destination = destination

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> PublishResult:
        traced = [(message.id, trace_context_of(message)) for message in messages]
        with publishing(
            traced, system=self.system, destination=self.destination
        ) as note_failures:
            result = self.inner.publish_batch(messages)
            note_failures(result.failed)
        return result


def trace_context_of(message: OutgoingMessage) -> Mapping[str, str] | None:
    """The envelope's ``trace_context``; None for a body that has none."""
    try:
        context = json.loads(message.body).get("trace_context")
    except (ValueError, AttributeError):
        return None
    return context if isinstance(context, dict) else None

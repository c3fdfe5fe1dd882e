"""The correlation id of the work being done, and the event that caused it.

Every event recorded while a correlation id is set carries it, so a learner
can follow one action across both services and the broker. A service's web
requests set it (``service_kit.api.correlation``: from ``X-Correlation-ID``);
the repositories read it when they record an event.

A consumer applying an event sets that event as the cause
(``caused_by_event``): what its handlers record (the OrderCancelled of a
CustomerDeleted) keeps the event's correlation id, names it as causation and
continues its trace (``shared_events.events.caused_by``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared_events.events import EventEnvelope

_correlation_id: ContextVar[uuid.UUID | None] = ContextVar(
    "correlation_id", default=None
)


def current_correlation_id() -> uuid.UUID | None:
    return _correlation_id.get()


@contextmanager
def correlation_id_set(correlation_id: uuid.UUID) -> Iterator[None]:
    """Events recorded inside the block carry ``correlation_id``."""
    token = _correlation_id.set(correlation_id)
    try:
        yield
    finally:
        _correlation_id.reset(token)


_cause: ContextVar[EventEnvelope | None] = ContextVar("cause", default=None)


def current_cause() -> EventEnvelope | None:
    return _cause.get()


@contextmanager
def caused_by_event(envelope: EventEnvelope) -> Iterator[None]:
    """Events recorded inside the block were caused by ``envelope``."""
    token = _cause.set(envelope)
    try:
        yield
    finally:
        _cause.reset(token)

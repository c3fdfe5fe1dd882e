"""The correlation id of the work being done, for the events it records.

Every event recorded while a correlation id is set carries it, so a learner
can follow one action across both services and the broker. A service's web
requests set it (``service_kit.api.correlation``: from ``X-Correlation-ID``);
the repositories read it when they record an event.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

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

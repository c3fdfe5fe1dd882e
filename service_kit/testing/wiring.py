"""A service wired for event sourcing for one test, through its composition root.

What a learner should notice: a test swaps adapters the way production
chooses them, through the service's ``bootstrap`` (``build_wiring`` and
``overridden``), never by patching the code that uses them.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager

from shared_events.approaches import Approach


@contextmanager
def wired_for_event_sourcing(bootstrap, **kept):
    """A service wired for event sourcing (approach 4), for one test.

    The test runner pins db_per_service, so the test installs the wiring the
    service's composition root (``bootstrap``) builds for event_sourcing;
    ``kept`` are adapters the test keeps in place of the built ones (a fake).
    The relay is never woken (no Celery, no SQS): the outbox rows stay where
    the test can read them.
    """
    built = bootstrap.build_wiring(Approach.EVENT_SOURCING, wake_relay=lambda: None)
    adapters = {
        field.name: getattr(built, field.name) for field in dataclasses.fields(built)
    }
    with bootstrap.overridden(**{**adapters, **kept}) as wiring:
        yield wiring

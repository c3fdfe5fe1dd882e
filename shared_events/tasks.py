"""Celery tasks: thin, each calls a service function.

Both services' Celery apps discover these; each runs them against its own
database and with the publisher its composition root chose.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from shared_events import outbox
from shared_events.composition import service_wiring

logger = logging.getLogger(__name__)


@shared_task(name="shared_events.relay_outbox", ignore_result=True)
def relay_outbox() -> dict:
    """Publish what the outbox holds; woken after each commit and swept on a timer."""
    publisher = service_wiring().event_publisher
    if publisher is None:
        return {"skipped": "this approach has no outbox"}
    result = outbox.relay_outbox(
        publisher=publisher,
        batch_size=settings.EVENT_RELAY_BATCH_SIZE,
        time_budget_seconds=settings.EVENT_RELAY_TIME_BUDGET_SECONDS,
    )
    if result.claimed:
        logger.info(
            "relay: %d published, %d failed in %d batches",
            result.published,
            result.failed,
            result.batches,
        )
    return {"published": result.published, "failed": result.failed}


@shared_task(name="shared_events.prune_outbox", ignore_result=True)
def prune_outbox() -> int:
    retention = timedelta(hours=settings.OUTBOX_RETENTION_HOURS)
    return outbox.outbox_prune(retention=retention)


def wake_relay() -> None:
    """Ask a relay worker to run now (called after commit).

    With ``EVENT_RELAY_WAKE=notify`` (the default) there is nothing to send:
    the commit itself notifies the listening relay workers
    (``shared_events.outbox.listener``). With ``celery`` a relay task goes
    through the Celery broker. If that broker cannot be reached the event is
    not at risk: it is committed in the outbox, and the sweep publishes it.
    """
    if settings.EVENT_RELAY_WAKE != "celery":
        return
    try:
        relay_outbox.apply_async(expires=60, retry=False)
    except Exception:
        logger.warning(
            "could not wake the relay; the sweep will publish", exc_info=True
        )


@worker_ready.connect
def start_outbox_listener(**kwargs) -> None:
    """A relay worker also listens for commits (``EVENT_RELAY_WAKE=notify``)."""
    if settings.EVENT_RELAY_WAKE == "notify":
        outbox.start_listener(
            relay_outbox, sweep_seconds=settings.EVENT_RELAY_SWEEP_SECONDS
        )

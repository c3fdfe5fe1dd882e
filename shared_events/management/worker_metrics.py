"""A worker's ``/metrics``, as its settings say: on ``METRICS_PORT`` or not at all.

Called once by each long-running worker as it starts: the consumers and
projectors (``consume_events``), the event source mapping runner
(``run_event_source_mappings``) and the Celery relay (``worker_ready``). Its
counters are the ones ``shared_events.telemetry.metrics`` defines; a
consumer adds the depth of its dead-letter queue, read on each scrape.

``METRICS_PORT`` unset: no server (a test, a one-off command). Set but no
``METRICS_TOKEN``: no server either, and a warning says why; a metrics
endpoint open to anyone who can reach the port is never the default.

Beside the commands, not in ``telemetry``: it reads the settings and builds
an SQS client, which the metrics themselves never need.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable

from django.conf import settings

from shared_events.telemetry import metrics
from shared_events.telemetry.exposition import METRICS_PATH, start_metrics_server
from shared_events.telemetry.metrics import DeadLetterQueueCollector
from shared_events.transport import client, messaging

logger = logging.getLogger(__name__)

# A scrape waits this long for SQS at most, once: the next scrape asks again.
QUEUE_DEPTH_TIMEOUT_SECONDS = 3.0


def serve_worker_metrics(*, dead_letter_queue_urls: Iterable[str] = ()) -> str | None:
    """Start this worker's metrics server if the settings ask for one; its URL.

    ``dead_letter_queue_urls``: the queues whose depth each scrape reports.
    """
    port = settings.METRICS_PORT
    if port is None or not metrics.ENABLED:
        return None
    if not settings.METRICS_TOKEN:
        logger.warning(
            "METRICS_PORT=%s but no METRICS_TOKEN: no metrics server, since it "
            "would answer anyone",
            port,
        )
        return None
    collectors = []
    queue_urls = [url for url in dead_letter_queue_urls if url]
    if queue_urls:
        aws = dataclasses.replace(
            messaging.aws_settings(),
            connect_timeout=QUEUE_DEPTH_TIMEOUT_SECONDS,
            read_timeout=QUEUE_DEPTH_TIMEOUT_SECONDS,
            max_attempts=1,
            throttle=None,
        )
        collectors.append(
            DeadLetterQueueCollector(sqs=client("sqs", aws), queue_urls=queue_urls)
        )
    start_metrics_server(
        port=port,
        bind=settings.METRICS_BIND,
        token=settings.METRICS_TOKEN,
        collectors=collectors,
    )
    return f"http://{settings.METRICS_BIND}:{port}{METRICS_PATH}"

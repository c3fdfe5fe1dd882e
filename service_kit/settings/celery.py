"""Celery, which runs the outbox relay; its broker is SQS too."""

from service_kit.settings.base import env
from service_kit.settings.events import (
    AWS_ENDPOINT_URL,
    AWS_REGION,
    EVENT_RELAY_SWEEP_SECONDS,
    EVENT_TOPOLOGY_PREFIX,
)

# CELERY (the outbox relay; its broker is SQS too)
# ------------------------------------------------------------------------------
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BEAT_SCHEDULE = {
    "relay-outbox-sweep": {
        "task": "shared_events.relay_outbox",
        "schedule": EVENT_RELAY_SWEEP_SECONDS,
        "options": {"expires": 30},
    },
    "prune-outbox": {"task": "shared_events.prune_outbox", "schedule": 3600.0},
}


def celery_broker_settings(service: str) -> dict:
    """The Celery broker of one service: SQS, at the same endpoint as the events.

    Its visibility timeout (120 s) is far longer than one relay run (the
    relay's time budget, 20 s), so a running task is never handed to a second
    worker; late acks and reject-on-worker-lost mean a killed worker's task
    runs again.
    """
    url = env.str("CELERY_BROKER_URL", default="")
    options = {
        "region": AWS_REGION,
        "visibility_timeout": 120,
        "wait_time_seconds": 1,
        "polling_interval": 0.2,
        "queue_name_prefix": f"{EVENT_TOPOLOGY_PREFIX}{service}-",
    }
    if not url:
        if AWS_ENDPOINT_URL:
            host = AWS_ENDPOINT_URL.split("://", 1)[-1].rstrip("/")
            url = f"sqs://testing:testing@{host}"
            options["is_secure"] = AWS_ENDPOINT_URL.startswith("https")
        else:
            url = "sqs://"
    return {
        "CELERY_BROKER_URL": url,
        "CELERY_BROKER_TRANSPORT_OPTIONS": options,
        "CELERY_TASK_DEFAULT_QUEUE": "relay",
    }

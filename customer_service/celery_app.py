"""The customer service's Celery app: it runs the outbox relay.

Start a relay worker (with its timer for the periodic sweep) with::

    python manage.py --service customer relay_worker

which runs ``celery -A customer_service worker --beat --pool solo`` with gossip,
mingle and heartbeat off.

Those three need broadcast messaging, which SQS lacks.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "customer_service.settings")

app = Celery("customer_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["shared_events"])

"""The order service's Celery app: it runs the outbox relay.

See service_kit.celery_app.
"""

from service_kit.celery_app import service_celery_app

app = service_celery_app("order_service")

"""The Order service: a Django project that owns orders."""

# Imported here so that ``.delay()`` targets this service's broker (SQS), not
# Celery's default AMQP broker.
from order_service.config.celery_app import app as celery_app  # noqa: E402

__all__ = ["celery_app"]

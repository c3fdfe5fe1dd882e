"""The Customer service: a Django project that owns customer data."""

# Imported here so that ``.delay()`` targets this service's broker (SQS), not
# Celery's default AMQP broker.
from customer_service.config.celery_app import app as celery_app  # noqa: E402

__all__ = ["celery_app"]

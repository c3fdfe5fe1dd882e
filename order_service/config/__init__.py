"""The order service's Django configuration: settings, URLs, WSGI/ASGI, Celery."""

"""The customer service's Django configuration: settings, URLs, WSGI/ASGI, Celery."""

"""The analytics service's Django configuration: settings, URLs, WSGI."""

"""Limits on what one client may ask of a service: body size and request rate.

- ``RequestBodyLimitMiddleware`` refuses a body larger than
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with 413 and a JSON ``detail``, before
  anything reads it. Django applies that setting to form posts only; DRF
  reads a JSON body straight from the stream, so without this an API would
  accept a body of any size.
- ``UserRateThrottle`` and ``AnonRateThrottle`` are DRF's, reading their rates
  from the settings on every request (DRF's own read them once, at import),
  so ``override_settings`` in a test and a changed setting both apply. A
  principal without a database user (the order service calling under
  db_per_service) is counted by its name.

The counters live in Django's default cache (``CACHE_URL``): per process by
default, shared by all workers with a Redis or database cache.
"""

from django.conf import settings
from django.http import JsonResponse
from rest_framework import throttling
from rest_framework.settings import api_settings


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _content_length(request) > limit:
            return JsonResponse(
                {
                    "detail": (
                        f"The request body is larger than this service accepts "
                        f"({limit} bytes)."
                    )
                },
                status=413,
            )
        return self.get_response(request)


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class _RatesFromSettings:
    @property
    def THROTTLE_RATES(self):  # noqa: N802 (the attribute DRF's throttles read)
        return api_settings.DEFAULT_THROTTLE_RATES


class UserRateThrottle(_RatesFromSettings, throttling.UserRateThrottle):
    def get_cache_key(self, request, view):
        user = request.user
        if user and user.is_authenticated and getattr(user, "pk", None) is None:
            ident = f"principal-{user}"
            return self.cache_format % {"scope": self.scope, "ident": ident}
        return super().get_cache_key(request, view)


class AnonRateThrottle(_RatesFromSettings, throttling.AnonRateThrottle):
    pass

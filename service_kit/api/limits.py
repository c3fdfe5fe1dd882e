"""Limits on what one client may ask of a service: body size and request rate.

- ``RequestBodyLimitMiddleware`` refuses a body larger than
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with 413 and a JSON ``detail``, before
  anything reads it. Django applies that setting to form posts only; DRF
  reads a JSON body straight from the stream, so without this an API would
  accept a body of any size.
- ``UserRateThrottle`` and ``AnonRateThrottle`` are DRF's, reading their rates
  from the settings on every request (DRF's own read them once, at import),
  so ``override_settings`` in a test and a changed setting both apply.
- ``exception_handler`` counts a request refused for its credentials (a wrong
  or expired token, none where one is needed) against its address, as an
  anonymous request: DRF checks throttles only after authentication, so
  without it a client could guess tokens at any rate.

What a learner should notice is the key of each count (``throttle_key``): the
service, the scope and the client as its credentials name it. User ids are
numbered by whoever keeps the users: a JWT's by its issuer (its ``iss``
claim, the customer service), a token's or a session's by this service, so
the order service's user 7 and the customer service's user 7 are two clients.
A principal without a database user (the order service calling under
db_per_service) is counted by its name, an anonymous client by its address
(``client_address``, also the address django-axes counts failed logins by).

The counts live in Django's default cache, a PostgreSQL table by default
(``CACHES`` in ``service_kit.settings.rest_framework``): every worker and host
of a service shares them.
"""

from django.conf import settings
from django.http import JsonResponse
from rest_framework import exceptions, throttling
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


def client_address(request) -> str | None:
    """The client's address: the socket's peer, or ``NUM_PROXIES`` back in
    ``X-Forwarded-For`` behind a gateway (DRF's rule, so a client cannot pick
    its own address unless proxies are trusted). None when there is none (a
    request made in-process, by a test)."""
    return throttling.BaseThrottle().get_ident(request) or None


def _address_ident(request) -> str:
    return f"address-{client_address(request) or 'unknown'}"


def client_identity(user) -> str:
    """Who an authenticated client is, in words no other service shares."""
    token = getattr(user, "token", None)
    if token is not None:
        # A JWT's user, numbered by the service that issued it.
        return f"{token.get('iss') or 'jwt'}-user-{user.pk}"
    if getattr(user, "pk", None) is None:
        return f"principal-{user}"
    return f"{settings.SERVICE_NAME}-user-{user.pk}"


def throttle_key(*, scope: str, ident: str) -> str:
    return f"throttle:{settings.SERVICE_NAME}:{scope}:{ident}"


class _RatesFromSettings:
    @property
    def THROTTLE_RATES(self):  # noqa: N802 (the attribute DRF's throttles read)
        return api_settings.DEFAULT_THROTTLE_RATES


class UserRateThrottle(_RatesFromSettings, throttling.UserRateThrottle):
    def get_cache_key(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return None  # AnonRateThrottle counts it
        return throttle_key(scope=self.scope, ident=client_identity(user))


class AnonRateThrottle(_RatesFromSettings, throttling.AnonRateThrottle):
    def get_cache_key(self, request, view):
        user = request.user
        if user and user.is_authenticated:
            return None  # UserRateThrottle counts it
        # Counted once: a refusal of this request's credentials later on
        # (a wrong password at the token endpoint) adds nothing.
        request.counted_by_address = True
        return throttle_key(scope=self.scope, ident=_address_ident(request))


class RefusedCredentialsThrottle(AnonRateThrottle):
    """Counts a request whose credentials were refused, by its address."""

    def get_cache_key(self, request, view):
        return throttle_key(scope=self.scope, ident=_address_ident(request))


def exception_handler(exc, context):
    """``service_kit.api.errors.exception_handler`` (EXCEPTION_HANDLER), after
    counting a request refused for its credentials; past the anonymous rate
    the refusal is a 429 instead of a 401."""
    # Imported here: DRF imports this module (the throttles) while defining
    # APIView, and the error handler's imports reach APIView.
    from service_kit.api import errors

    request = context.get("request")
    if (
        isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed)
        and request is not None
        and not getattr(request, "counted_by_address", False)
    ):
        request.counted_by_address = True
        throttle = RefusedCredentialsThrottle()
        if not throttle.allow_request(request, context.get("view")):
            exc = exceptions.Throttled(throttle.wait())
    return errors.exception_handler(exc, context)

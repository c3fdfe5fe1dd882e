"""What a locked-out sign-in gets: 429, for how long, and what to do.

django-axes (``service_kit.settings.login_throttling``) flags a request whose
user name or address failed to sign in too often; its middleware then calls
``lockout_response`` (``AXES_LOCKOUT_CALLABLE``) in place of the login
form's answer. The token endpoint is an API, so it raises
``SignInLockedOut`` instead and the API's error handler answers the same 429
in JSON. Either way a learner should notice that the right password does
not help until the lockout ends: that is what makes guessing useless.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from rest_framework import exceptions

# django-axes keeps the user name tried in a column of 255 characters.
USERNAME_LENGTH = 255


def attempted_username(request, credentials=None) -> str | None:
    """The user name a sign-in tried, as django-axes counts it
    (``AXES_USERNAME_CALLABLE``): cut to what its table holds, so that an
    overlong one is counted (no user has such a name: Django's hold 150
    characters) instead of failing the request with a 500."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        username = credentials.get(field)
    else:
        username = getattr(request, "data", request.POST).get(field)
    if username is None:
        return None
    return str(username).replace("\x00", "")[:USERNAME_LENGTH]


def lockout_seconds() -> int:
    """How long a lockout lasts after the last failure."""
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_message() -> str:
    minutes = max(1, lockout_seconds() // 60)
    return (
        f"Too many failed sign-ins for this user name or from this address: "
        f"signing in is locked for {minutes} minutes after the last failure, "
        "even with the right password. An operator can lift the lock early "
        "(manage.py --service <service> axes_reset_username <name>)."
    )


def lockout_response(request, original_response=None, credentials=None):
    """The answer to a locked-out login form: 429 with ``Retry-After``."""
    if "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"detail": lockout_message()}, status=429)
    else:
        response = HttpResponse(
            lockout_message(), status=429, content_type="text/plain; charset=utf-8"
        )
    response["Retry-After"] = str(lockout_seconds())
    return response


def is_locked_out(request) -> bool:
    """Whether django-axes refused this request's sign-in (or counted it as
    the one that reached the limit)."""
    return bool(getattr(request, "axes_locked_out", False))


class SignInLockedOut(exceptions.Throttled):
    """The token endpoint's lockout: 429, JSON, ``Retry-After``."""

    def __init__(self):
        super().__init__(wait=lockout_seconds(), detail=lockout_message())

"""Every error a service answers is JSON with a ``detail``.

- ``exception_handler`` (DRF's ``EXCEPTION_HANDLER``): every refusal an API
  raises is a clear 4xx or 503, never a 500.
- ``bad_request``, ``not_found``, ``server_error`` (each URLconf's
  ``handler400``/``handler404``/``handler500``): the errors Django raises
  before DRF sees a request.
"""

import logging

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from shared_events.errors import (
    ApplicationError,
    CommandRefused,
    DependencyUnavailable,
)
from shared_events.write_side import (
    ConcurrencyConflict,
    EventStoreUnavailable,
    NotRecorded,
)

logger = logging.getLogger(__name__)

# Seconds a client should wait before retrying when the database is away.
DATABASE_RETRY_AFTER = 2


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            exc = exceptions.ValidationError(exc.message_dict)
        else:
            exc = exceptions.ValidationError({"non_field_errors": exc.messages})
    elif isinstance(exc, ApplicationError):
        key = exc.field or "non_field_errors"
        exc = exceptions.ValidationError({key: [exc.message]})
    elif isinstance(exc, DependencyUnavailable):
        return Response(
            {"detail": exc.message}, status=status.HTTP_503_SERVICE_UNAVAILABLE
        )
    elif isinstance(exc, OperationalError | InterfaceError):
        # The database went away (a restart, a failover, a cut connection).
        # Usually the transaction rolled back; one cut off at its commit may
        # have committed, which is why the answer says to read first.
        logger.warning("database unavailable: %s", exc)
        return Response(
            {
                "detail": "the database could not be reached; try again. A "
                "command cut off at its commit may have been applied: read "
                "before repeating it (expected_version makes a repeat safe)."
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )
    elif isinstance(exc, EventStoreUnavailable):
        # DynamoDB throttled or did not answer the commit (EVENT_STORE=dynamodb);
        # the transaction rolled back, and the reason says if the commit may
        # have gone in anyway.
        logger.warning("event store unavailable: %s", exc.message)
        return Response(
            {"detail": exc.message},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )
    elif isinstance(exc, ConcurrencyConflict | CommandRefused):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, NotRecorded):
        return Response({"detail": exc.message}, status=status.HTTP_404_NOT_FOUND)
    elif isinstance(exc, Http404 | ObjectDoesNotExist):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)


def not_found(request, exception=None):
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request):
    return JsonResponse({"detail": "Internal server error."}, status=500)


def bad_request(request, exception=None):
    return JsonResponse({"detail": "Bad request."}, status=400)

"""DRF exception handler: every refusal is a clear 4xx or 503, never a 500."""

import logging

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from shared_events.errors import (
    ApplicationError,
    ConcurrencyConflict,
    DependencyUnavailable,
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
    elif isinstance(exc, ConcurrencyConflict):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, NotRecorded):
        return Response({"detail": exc.message}, status=status.HTTP_404_NOT_FOUND)
    elif isinstance(exc, Http404 | ObjectDoesNotExist):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)

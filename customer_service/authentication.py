"""Who may call this service, beyond the users' own tokens and sessions.

- **Other services.** Under db_per_service the order service checks every
  customer with an HTTP call. It presents ``Authorization: Service
  <CUSTOMER_SERVICE_TOKEN>``, a shared secret from the environment, and is
  let in as a read-only principal with no database user behind it.
- **JWTs of users who changed.** A JWT is verified by its signature, as in
  the order service, but this service keeps the users the tokens name, so
  ``TokenUserIsCurrent`` refuses (401) the token of a user deleted,
  deactivated, demoted or linked to another customer since it was issued,
  at once rather than when the token expires. The query API is exempt: it
  answers from the read database alone, as the query process does, and
  there the token's lifetime (minutes) is the bound.
"""

import hmac

from django.conf import settings
from django.contrib.auth import get_user_model
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from service_kit.access import claims_are_current


class ServicePrincipal:
    is_authenticated = True
    is_staff = False
    is_active = True
    # It checks any customer the order service is asked about (read-only).
    sees_every_customer = True
    username = "order-service"

    def __str__(self) -> str:
        return self.username


class ServiceTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Service"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1") != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("malformed service credentials")
        # Compared as bytes: compare_digest refuses non-ASCII str (a 500).
        expected = settings.CUSTOMER_SERVICE_TOKEN.encode()
        if not hmac.compare_digest(header[1], expected):
            raise exceptions.AuthenticationFailed("invalid service credentials")
        return (ServicePrincipal(), None)

    def authenticate_header(self, request):
        return self.keyword


class ServicePrincipalIsReadOnly(permissions.BasePermission):
    """The order service only reads customers; its token may not change them."""

    message = "service credentials are read-only"

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or not isinstance(
            request.user, ServicePrincipal
        )


class TokenUserIsCurrent(permissions.BasePermission):
    """A JWT's user still exists, is active and has the scope its claims say."""

    def has_permission(self, request, view):
        # Imported here: DRF imports this module while defining APIView.
        from service_kit.api.query import ReadModelApi

        token = getattr(request.user, "token", None)
        if token is None or isinstance(view, ReadModelApi):
            return True  # not a JWT, or the read side (see the module docstring)
        user = (
            get_user_model()
            .objects.filter(**{jwt_settings.USER_ID_FIELD: request.user.pk})
            .first()
        )
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(
                "the user of this token was deleted or deactivated"
            )
        if not claims_are_current(token, user):
            raise exceptions.AuthenticationFailed(
                "this token's rights changed since it was issued (staff or "
                "customer link); refresh it or sign in again"
            )
        return True


class ServiceTokenScheme(OpenApiAuthenticationExtension):
    target_class = ServiceTokenAuthentication
    name = "serviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Service <token>, for calls from the order service",
        }

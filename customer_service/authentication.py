"""How other services authenticate when they call this one synchronously.

Under db_per_service the order service checks every customer with an HTTP
call. It presents ``Authorization: Service <CUSTOMER_SERVICE_TOKEN>``, a
shared secret from the environment, and is let in as a read-only principal
with no database user behind it.
"""

import hmac

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions


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

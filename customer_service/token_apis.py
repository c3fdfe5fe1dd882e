"""JWTs issued by the customer service, verified by both services statelessly.

simplejwt's views, with their answers documented (a wrong password or an
expired refresh token is a 401) so the OpenAPI schema says what they do.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework_simplejwt.serializers import (
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from shared_events.api_serializers import (
    NOT_AUTHENTICATED_RESPONSE,
    VALIDATION_ERROR_RESPONSE,
)


@extend_schema_view(
    post=extend_schema(
        responses={
            200: TokenObtainPairSerializer,
            400: VALIDATION_ERROR_RESPONSE,
            401: NOT_AUTHENTICATED_RESPONSE,
        }
    )
)
class TokenObtainApi(TokenObtainPairView):
    """Exchange a user name and password for an access and a refresh JWT."""


@extend_schema_view(
    post=extend_schema(
        responses={
            200: TokenRefreshSerializer,
            400: VALIDATION_ERROR_RESPONSE,
            401: NOT_AUTHENTICATED_RESPONSE,
        }
    )
)
class TokenRefreshApi(TokenRefreshView):
    """Exchange a refresh JWT for a new access JWT."""

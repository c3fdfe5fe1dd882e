"""JWTs issued by the customer service, verified by both services statelessly.

simplejwt's views, with their answers documented (a wrong password or an
expired refresh token is a 401) so the OpenAPI schema says what they do.
The tokens carry the user's scope (``is_staff``, and ``customer_id`` for a
customer's own user: ``service_kit.access``), so that either service can
narrow a request to the caller's data without a lookup. A refreshed access
token keeps the claims of its refresh token.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework_simplejwt.serializers import (
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from service_kit.access import customer_claims
from service_kit.api.serializers import (
    NOT_AUTHENTICATED_RESPONSE,
    VALIDATION_ERROR_RESPONSE,
)


class ScopedTokenObtainPairSerializer(TokenObtainPairSerializer):
    @classmethod
    def get_token(cls, user):
        token = super().get_token(user)
        for claim, value in customer_claims(user).items():
            token[claim] = value
        return token


@extend_schema_view(
    post=extend_schema(
        responses={
            200: ScopedTokenObtainPairSerializer,
            400: VALIDATION_ERROR_RESPONSE,
            401: NOT_AUTHENTICATED_RESPONSE,
        }
    )
)
class TokenObtainApi(TokenObtainPairView):
    """Exchange a user name and password for an access and a refresh JWT."""

    serializer_class = ScopedTokenObtainPairSerializer


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

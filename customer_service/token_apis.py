"""JWTs issued by the customer service: access for minutes, refresh used once.

simplejwt's views, with their answers documented (a wrong password or an
expired refresh token is a 401) so the OpenAPI schema says what they do.
The tokens carry the user's scope (``is_staff``, and ``customer_id`` for a
customer's own user: ``service_kit.access``), so that either service can
narrow a request to the caller's data without a lookup. What a learner
should notice is how access that was given can be taken back:

- an access token lives minutes (``JWT_ACCESS_MINUTES``): the order service
  and the query processes verify it by its signature alone, so that is how
  long a deleted or demoted user keeps access there. This service reads its
  user table and refuses such a token at once
  (``customer_service.authentication.TokenUserIsCurrent``);
- a refresh re-reads the user: a deleted or deactivated user gets 401, the
  new tokens claim what the user is now (demoted staff get ``is_staff:
  false``), and the refresh token used is blacklisted (rotation), so a
  stolen one works at most once;
- deleting, deactivating or demoting a user blacklists every refresh token
  it holds (``customer_service.accounts.signals``);
- a user name or address locked out by django-axes gets 429 here as on the
  login forms (``service_kit.login_lockout``).

Every refresh token issued is a row (``OutstandingToken``, in the admin with
the blacklist); ``manage.py --service customer flushexpiredtokens`` deletes
the expired ones.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import (
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from service_kit.access import refresh_token_for
from service_kit.api.serializers import (
    NOT_AUTHENTICATED_RESPONSE,
    VALIDATION_ERROR_RESPONSE,
)
from service_kit.login_lockout import SignInLockedOut, is_locked_out


class ScopedTokenObtainPairSerializer(TokenObtainPairSerializer):
    @classmethod
    def get_token(cls, user):
        return refresh_token_for(user)

    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except AuthenticationFailed:
            if is_locked_out(self.context["request"]):
                raise SignInLockedOut() from None
            raise


class RotatingTokenRefreshSerializer(TokenRefreshSerializer):
    """A refresh that re-reads the user and spends the refresh token."""

    def validate(self, attrs):
        # Signature, expiry and the blacklist (a TokenError, answered 401).
        presented = self.token_class(attrs["refresh"])
        user = _current_user(presented)
        with transaction.atomic():
            _, spent_now = presented.blacklist()
            if not spent_now:
                # Another refresh spent it a moment ago (the same token twice).
                raise AuthenticationFailed(
                    "this refresh token was used already; sign in again",
                    code="token_not_valid",
                )
        renewed = refresh_token_for(user)
        return {"access": str(renewed.access_token), "refresh": str(renewed)}


def _current_user(token):
    """The token's user as it is now: 401 if deleted or deactivated."""
    user_id = token.get(api_settings.USER_ID_CLAIM)
    user = (
        get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
    )
    if user is None:
        raise AuthenticationFailed(
            "the user of this token no longer exists", code="user_not_found"
        )
    if not user.is_active:
        raise AuthenticationFailed(
            "the user of this token is deactivated", code="user_inactive"
        )
    return user


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
            200: RotatingTokenRefreshSerializer,
            400: VALIDATION_ERROR_RESPONSE,
            401: NOT_AUTHENTICATED_RESPONSE,
        }
    )
)
class TokenRefreshApi(TokenRefreshView):
    """Exchange a refresh JWT, once, for a new access and refresh JWT."""

    serializer_class = RotatingTokenRefreshSerializer

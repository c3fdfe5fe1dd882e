"""Why the query process refuses an API token: it never opens the write database.

API tokens (``Authorization: Token ...``) are rows in the write database, and
the query process (``QUERY_SIDE_ONLY=true``, approach 5) opens only the read
database. Without this class such a request would be answered "credentials
were not provided", which sends a learner looking for a typo; it answers 401
saying what to send instead.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions


class ApiTokenRefused(authentication.BaseAuthentication):
    """Last in the query process's list: an API token gets 401 and the reason."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1") != self.keyword:
            return None
        raise exceptions.AuthenticationFailed(
            "the query side takes a JWT (Authorization: Bearer <jwt>), not an API "
            "token: API tokens live in the write database, which the query side "
            "never opens. 'manage.py create_demo_user' and 'make up' print a JWT; "
            "POST /api/auth/token/ on the customer service issues one."
        )

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiTokenRefusedScheme(OpenApiAuthenticationExtension):
    """Documents nothing: the class only explains a refusal, it admits no one."""

    target_class = ApiTokenRefused
    name: list[str] = []

    def get_security_requirement(self, auto_schema):
        return None

    def get_security_definition(self, auto_schema):
        return []

"""API clients with JWTs as the customer service issues them, for tests.

Signed with the shared key, so either service accepts them; a customer
user's carries its customer's id (``service_kit.access``).
"""

from __future__ import annotations

from uuid import UUID

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken


def jwt_client(**claims) -> APIClient:
    """A client whose JWT carries ``claims`` (and a user id no one has)."""
    token = AccessToken()
    token["user_id"] = 4242
    for claim, value in claims.items():
        token[claim] = value
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def customer_jwt_client(customer_id: UUID | str) -> APIClient:
    """A client of one customer's own user."""
    return jwt_client(is_staff=False, customer_id=str(customer_id))

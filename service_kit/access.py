"""Whose data a request may see: staff every customer's, a customer user its own.

Both services answer the same question for every request that reads or
changes customer data: which customers' records and orders may this caller
see? The answer is a :class:`CustomerScope`:

- **every customer** for staff users (the operators who run the lab, the
  back office) and for the order service's service token (read-only);
- **one customer** for a customer user: a user the customer service linked
  to a customer record (``customer_service.accounts``). Its JWTs carry the
  customer's id in the ``customer_id`` claim, so the order service, which
  has no such link of its own, scopes a request without calling anyone;
- **no customer** for any other user: it gets 403 with the reason.

Scoping is applied to lists and details alike (a list is filtered, a detail
outside the scope is 404, as if the record did not exist: a caller learns
nothing about other customers, not even that an id is taken).

A JWT's claims are a copy of the user's scope when it was issued. Copies go
stale: an access token lives minutes (``SIMPLE_JWT``), a refresh re-reads
the user (``customer_service.token_apis``), and the customer service, which
keeps the users, refuses at once a token whose claims no longer match
(``claims_are_current``). The order service cannot tell: for it a token's
short lifetime is the bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils.module_loading import import_string
from rest_framework import permissions

CUSTOMER_CLAIM = "customer_id"
STAFF_CLAIM = "is_staff"


@dataclass(frozen=True)
class CustomerScope:
    """Every customer (``customer_id`` None and ``everyone``), one, or none."""

    everyone: bool = False
    customer_id: UUID | None = None

    @property
    def nobody(self) -> bool:
        return not self.everyone and self.customer_id is None

    def allows(self, customer_id: UUID | str | None) -> bool:
        if self.everyone:
            return True
        if self.customer_id is None or customer_id is None:
            return False
        return str(self.customer_id) == str(customer_id)

    def narrow(self, queryset: QuerySet, field: str = "customer_id") -> QuerySet:
        """Only the rows of the customers in scope."""
        if self.everyone:
            return queryset
        if self.customer_id is None:
            return queryset.none()
        return queryset.filter(**{field: self.customer_id})

    def require(self, customer_id: UUID | str | None, what: str) -> None:
        """Http404 for a record of a customer outside the scope."""
        if not self.allows(customer_id):
            raise Http404(f"no {what} found")


EVERY_CUSTOMER = CustomerScope(everyone=True)
NO_CUSTOMER = CustomerScope()


@cache
def _account_lookup() -> Callable[[object], UUID | None] | None:
    path = getattr(settings, "CUSTOMER_ACCOUNT_LOOKUP", "")
    return import_string(path) if path else None


def scope_of(user) -> CustomerScope:
    """The scope of an authenticated principal (see the module docstring)."""
    if getattr(user, "is_staff", False) or getattr(user, "sees_every_customer", False):
        return EVERY_CUSTOMER
    token = getattr(user, "token", None)
    if token is not None and hasattr(token, "get"):
        # A stateless JWT user: its claims are the whole truth about it.
        return _scope_from_claim(token.get(CUSTOMER_CLAIM))
    lookup = _account_lookup()
    if lookup is not None and getattr(user, "pk", None) is not None:
        customer_id = lookup(user)
        if customer_id is not None:
            return CustomerScope(customer_id=customer_id)
    return NO_CUSTOMER


def _scope_from_claim(value: object) -> CustomerScope:
    try:
        return CustomerScope(customer_id=UUID(str(value))) if value else NO_CUSTOMER
    except ValueError:
        return NO_CUSTOMER


def request_scope(request) -> CustomerScope:
    """The request's scope, resolved once per request."""
    scope = getattr(request, "_customer_scope", None)
    if scope is None:
        scope = scope_of(request.user)
        request._customer_scope = scope
    return scope


def customer_claims(user) -> dict[str, object]:
    """The claims a JWT for ``user`` carries so that any service can scope it."""
    scope = scope_of(user)
    claims: dict[str, object] = {STAFF_CLAIM: bool(getattr(user, "is_staff", False))}
    if scope.customer_id is not None:
        claims[CUSTOMER_CLAIM] = str(scope.customer_id)
    return claims


class HasCustomerScope(permissions.BasePermission):
    """Refuse (403) a user that is neither staff nor linked to a customer."""

    message = (
        "this user is neither staff nor linked to a customer, so it may not see "
        "or change customer data; ask an operator to link it to a customer"
    )

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return True  # IsAuthenticated answers 401 first
        return not request_scope(request).nobody


class StaffOnlyForCommand(permissions.BasePermission):
    """A command that only staff (or an operator process) may run."""

    message = "only staff may do this"

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return request_scope(request).everyone


def claims_are_current(token, user) -> bool:
    """Whether ``token`` still claims the scope ``user`` has now."""
    current = customer_claims(user)
    return bool(token.get(STAFF_CLAIM, False)) == current[STAFF_CLAIM] and (
        token.get(CUSTOMER_CLAIM) == current.get(CUSTOMER_CLAIM)
    )


def access_token_for(user) -> str:
    """A JWT access token for ``user`` with its scope's claims."""
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    for claim, value in customer_claims(user).items():
        token[claim] = value
    return str(token)


def refresh_token_for(user):
    """A refresh JWT for ``user`` with its scope's claims, which the access
    tokens made from it copy (recorded as outstanding where the blacklist
    app is installed, so that it can be revoked)."""
    from rest_framework_simplejwt.tokens import RefreshToken

    token = RefreshToken.for_user(user)
    for claim, value in customer_claims(user).items():
        token[claim] = value
    return token

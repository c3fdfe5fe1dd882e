"""The order service's port to customer data, and its adapters.

The order service needs two things about a customer: does it exist, and what
is its name. Where that answer comes from is the whole difference between the
approaches; ``order_service.bootstrap`` picks the adapter.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from order_service.orders.models import CustomerReplica
from service_kit.api.correlation import forwarded_headers
from shared_events.errors import DependencyUnavailable


@dataclass(frozen=True)
class CustomerSnapshot:
    id: UUID
    name: str
    email: str
    # What the customer service said the customer's credit limit is, when it
    # was asked (approach 2); None: the platform's CREDIT_LIMIT.
    credit_limit: Decimal | None = None


class CustomerDirectory(abc.ABC):
    """Where the order service learns about customers."""

    # Said after "no customer with id ..." when an order is refused.
    unknown_hint = ""

    @abc.abstractmethod
    def get(self, customer_id: UUID) -> CustomerSnapshot | None:
        """The customer, None if unknown; DependencyUnavailable if it cannot tell."""

    @abc.abstractmethod
    def get_many(self, customer_ids: Iterable[UUID]) -> dict[UUID, CustomerSnapshot]:
        """The known customers among the ids, by id."""

    def confirm_in_transaction(self, customer_id: UUID) -> bool:
        """Check again, inside the order's transaction, that the customer exists.

        Only a directory in the order service's own database can do this; a
        remote one answers True and the race stays open (one more reason the
        synchronous approach is fragile).
        """
        return True


class SharedTableCustomerDirectory(CustomerDirectory):
    """Approach 1: read the customer service's table straight from the shared DB.

    Fast and always consistent, and exactly the coupling the paper warns
    about: this code knows the customer table's name and columns, so the
    customer service can no longer change them on its own.
    """

    def get(self, customer_id: UUID) -> CustomerSnapshot | None:
        return self.get_many([customer_id]).get(customer_id)

    def get_many(self, customer_ids: Iterable[UUID]) -> dict[UUID, CustomerSnapshot]:
        # Imported here: the customer_table app is installed under shared_db
        # only, and its model cannot be imported anywhere else.
        from order_service.customer_table.models import CustomerRow

        rows = CustomerRow.objects.filter(id__in=list(customer_ids)).values_list(
            "id", "name", "email"
        )
        return {row[0]: CustomerSnapshot(*row) for row in rows}


# What the naive retry policy retries besides timeouts and refused connections:
# the answers of a proxy or a service that is overloaded or restarting.
RETRIED_STATUSES = (502, 503, 504)


def naive_retry_policy(retries: int) -> Retry:
    """Retry a lookup ``retries`` times, at once, whatever the reason.

    Naive on purpose (``CUSTOMER_SERVICE_RETRIES``): a GET is safe to repeat,
    but repeating it immediately, with no backoff and no budget, sends a slow
    service more requests exactly when it has the least room for them, and
    each attempt waits the whole timeout again. A kinder policy backs off
    with jitter, caps the retries per second, and stops calling a service
    that keeps failing (a circuit breaker); the event-driven approaches need
    none of it, since placing an order calls nobody.
    """
    return Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRIED_STATUSES,
        backoff_factor=0,
        # The last answer is returned when the retries are spent, and read below.
        raise_on_status=False,
        respect_retry_after_header=False,
    )


class HttpCustomerDirectory(CustomerDirectory):
    """Approach 2: ask the customer service over HTTP, synchronously.

    Every order placement now depends on the customer service being up: a
    timeout or a refused connection becomes a 503 for the learner's client.
    And on its being fast: the order service's worker waits for the answer,
    up to ``timeout`` per attempt, and ``retries`` more attempts
    (``naive_retry_policy``) multiply both the wait and the customer
    service's load (the lab's slow-customer-service scenario).
    """

    def __init__(
        self, *, base_url: str, token: str, timeout: float, retries: int = 0
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, not {retries}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Service {token}"
        self.session.headers["Accept"] = "application/json"
        if retries:
            self.session.mount(
                f"{self.base_url}/",
                HTTPAdapter(max_retries=naive_retry_policy(retries)),
            )

    def _fetch(
        self, path: str, *, expected: tuple[int, ...] = (200,), **params
    ) -> requests.Response:
        url = f"{self.base_url}{path}"
        try:
            response = self.session.get(
                url, params=params, timeout=self.timeout, headers=forwarded_headers()
            )
        except requests.RequestException as error:
            raise DependencyUnavailable(
                f"the customer service at {self.base_url} could not be reached "
                f"({self._cause(error)}); the order cannot be checked, try "
                "again later"
            ) from error
        if response.status_code not in expected:
            raise DependencyUnavailable(
                f"the customer service answered {response.status_code}; the order "
                "cannot be checked, try again later"
            )
        return response

    def get(self, customer_id: UUID) -> CustomerSnapshot | None:
        response = self._fetch(f"/api/customers/{customer_id}/", expected=(200, 404))
        if response.status_code == 404:
            return None
        return self._read(response, self._snapshot)

    def get_many(self, customer_ids: Iterable[UUID]) -> dict[UUID, CustomerSnapshot]:
        ids = sorted({str(customer_id) for customer_id in customer_ids})
        found: dict[UUID, CustomerSnapshot] = {}
        for start in range(0, len(ids), 100):
            chunk = ids[start : start + 100]
            response = self._fetch("/api/customers/", ids=",".join(chunk), limit=100)
            page = self._read(
                response,
                lambda body: [self._snapshot(item) for item in body["results"]],
            )
            for snapshot in page:
                found[snapshot.id] = snapshot
        return found

    def _cause(self, error: requests.RequestException) -> str:
        """Why the call failed: the last attempt's error once retries are spent
        (requests reports those as a ``ConnectionError`` wrapping it)."""
        wrapped = error.args[0] if error.args else None
        if isinstance(wrapped, MaxRetryError) and wrapped.reason is not None:
            attempts = self.retries + 1
            return f"{wrapped.reason.__class__.__name__} after {attempts} attempts"
        return error.__class__.__name__

    @staticmethod
    def _read(response: requests.Response, parse):
        # A proxy's HTML page or a changed payload is an outage too, not a 500.
        try:
            return parse(response.json())
        except (ValueError, KeyError, TypeError) as error:
            raise DependencyUnavailable(
                "the customer service's answer could not be read "
                f"({error.__class__.__name__}); the order cannot be checked, try "
                "again later"
            ) from error

    @staticmethod
    def _snapshot(data: dict) -> CustomerSnapshot:
        customer_id = UUID(data["id"])  # first: a list or a string has none
        limit = data.get("credit_limit")
        return CustomerSnapshot(
            id=customer_id,
            name=data["name"],
            email=data["email"],
            credit_limit=None if limit is None else Decimal(limit),
        )


class ReplicaCustomerDirectory(CustomerDirectory):
    """Approaches 3 to 5: the order service's own replica, kept from events.

    No call to the customer service: placing an order works while it is
    down. The price is eventual consistency: a customer registered a moment
    ago may not be in the replica yet, and a deleted one may linger briefly.
    """

    unknown_hint = (
        " (the order service knows customers from their events: one registered "
        "a moment ago may not have arrived yet; try again in a moment)"
    )

    def get(self, customer_id: UUID) -> CustomerSnapshot | None:
        return self.get_many([customer_id]).get(customer_id)

    def get_many(self, customer_ids: Iterable[UUID]) -> dict[UUID, CustomerSnapshot]:
        rows = CustomerReplica.objects.filter(
            id__in=list(customer_ids), deleted=False
        ).values_list("id", "name", "email")
        return {row[0]: CustomerSnapshot(*row) for row in rows}

    def confirm_in_transaction(self, customer_id: UUID) -> bool:
        """Lock the replica row: a CustomerDeleted being applied right now
        either finished first (the order is refused) or waits for this order
        to commit (and then cancels it)."""
        return (
            CustomerReplica.objects.select_for_update()
            .filter(id=customer_id, deleted=False)
            .exists()
        )

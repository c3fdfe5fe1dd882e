"""Test fakes for the order service's ports."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from order_service.orders.customers import CustomerDirectory, CustomerSnapshot
from shared_events.errors import DependencyUnavailable


class FakeCustomerDirectory(CustomerDirectory):
    """An in-memory customer directory; set ``unavailable`` to play an outage."""

    unavailable_message = "the customer service could not be reached (fake outage)"

    def __init__(self) -> None:
        self.customers: dict[UUID, CustomerSnapshot] = {}
        self.unavailable = False

    def add(self, snapshot: CustomerSnapshot) -> CustomerSnapshot:
        self.customers[snapshot.id] = snapshot
        return snapshot

    def remove(self, customer_id: UUID) -> None:
        self.customers.pop(customer_id, None)

    def get(self, customer_id: UUID) -> CustomerSnapshot | None:
        self._check_available()
        return self.customers.get(customer_id)

    def confirm_in_transaction(self, customer_id: UUID) -> bool:
        return customer_id in self.customers

    def get_many(self, customer_ids: Iterable[UUID]) -> dict[UUID, CustomerSnapshot]:
        self._check_available()
        return {
            customer_id: self.customers[customer_id]
            for customer_id in customer_ids
            if customer_id in self.customers
        }

    def _check_available(self) -> None:
        if self.unavailable:
            raise DependencyUnavailable(self.unavailable_message)

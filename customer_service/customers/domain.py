"""The Customer aggregate: commands in the imperative, events in the past tense."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self
from uuid import UUID

from shared_events.errors import ApplicationError
from shared_events.events import EventType
from shared_events.write_side import Aggregate


@dataclass
class CustomerAggregate(Aggregate):
    aggregate_type = "Customer"

    name: str = ""
    email: str = ""
    address: str = ""
    deleted: bool = False

    # Commands ---------------------------------------------------------------

    @classmethod
    def register(
        cls, *, customer_id: UUID, name: str, email: str, address: str
    ) -> Self:
        customer = cls(id=customer_id)
        customer.record(
            EventType.CUSTOMER_REGISTERED,
            {
                "customer_id": str(customer_id),
                "name": name,
                "email": email,
                "address": address,
            },
        )
        return customer

    def change(
        self,
        *,
        name: str | None = None,
        email: str | None = None,
        address: str | None = None,
    ) -> None:
        """Record one event per field that really changes; nothing otherwise."""
        self._require_live()
        if name is not None and name != self.name:
            self.record(
                EventType.CUSTOMER_RENAMED, {"customer_id": str(self.id), "name": name}
            )
        if email is not None and email != self.email:
            self.record(
                EventType.CUSTOMER_EMAIL_CHANGED,
                {"customer_id": str(self.id), "email": email},
            )
        if address is not None and address != self.address:
            self.record(
                EventType.CUSTOMER_ADDRESS_CHANGED,
                {"customer_id": str(self.id), "address": address},
            )

    def delete(self) -> None:
        self._require_live()
        self.record(EventType.CUSTOMER_DELETED, {"customer_id": str(self.id)})

    def _require_live(self) -> None:
        if self.deleted:
            raise ApplicationError("the customer has been deleted")

    # Events -----------------------------------------------------------------

    def when_CustomerRegistered(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.name = payload["name"]
        self.email = payload["email"]
        self.address = payload["address"]

    def when_CustomerRenamed(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.name = payload["name"]

    def when_CustomerEmailChanged(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.email = payload["email"]

    def when_CustomerAddressChanged(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.address = payload["address"]

    def when_CustomerDeleted(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.deleted = True

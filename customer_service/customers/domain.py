"""The Customer aggregate: commands in the imperative, events in the past tense.

Under approaches 4 and 5 the customer also owns its side of the credit-limit
saga: it answers each order placed with ``CreditReserved`` or
``CreditLimitExceeded`` and gives a cancelled order's credit back
(``CreditReleased``). Its reservations, by order id, are part of its state,
folded from those events like every other field, so a decision is made once
per order however often the order's event is delivered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
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
    # Credit held by each order the customer service approved, by order id.
    reservations: dict[str, Decimal] = field(default_factory=dict)
    # Every order the credit rule has answered (approved or refused).
    credit_decided: set[str] = field(default_factory=set)

    @property
    def credit_reserved(self) -> Decimal:
        return sum(self.reservations.values(), Decimal("0"))

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

    def delete(self, *, cancel_open_orders: bool = False) -> bool:
        """Delete the customer; refuse (and record why) while orders hold credit.

        The customer service knows the open orders its credit reservations
        name (approaches 4 and 5). A deletion is refused while there are any,
        unless the caller asks for them to be cancelled: then the customer is
        deleted and the order service cancels every open order of theirs when
        ``CustomerDeleted`` reaches it (the compensation). An order the
        customer service has not heard of yet is cancelled the same way.
        True when the customer was deleted.
        """
        self._require_live()
        if self.reservations and not cancel_open_orders:
            self.record(
                EventType.CUSTOMER_DELETION_REJECTED,
                {"customer_id": str(self.id), "reason": self._open_orders_reason()},
            )
            return False
        self.record(EventType.CUSTOMER_DELETED, {"customer_id": str(self.id)})
        return True

    def _open_orders_reason(self) -> str:
        count = len(self.reservations)
        return (
            f"{count} open order{'s' if count != 1 else ''} "
            f"hold{'s' if count == 1 else ''} {_money(self.credit_reserved)} of "
            "credit: cancel them first, or delete with open_orders=cancel"
        )

    def reserve_credit(
        self, *, order_id: UUID, amount: Decimal, limit: Decimal
    ) -> None:
        """Hold ``amount`` for the order if the limit allows, else refuse it.

        Both answers are events: the order service waits for one of them. An
        order already answered is not answered again.
        """
        self._require_live()
        if str(order_id) in self.credit_decided:
            return
        available = limit - self.credit_reserved
        if amount <= available:
            self.record(
                EventType.CREDIT_RESERVED,
                {
                    "customer_id": str(self.id),
                    "order_id": str(order_id),
                    "amount": _money(amount),
                },
            )
        else:
            self.record(
                EventType.CREDIT_LIMIT_EXCEEDED,
                {
                    "customer_id": str(self.id),
                    "order_id": str(order_id),
                    "amount": _money(amount),
                    "available": _money(max(available, Decimal("0"))),
                },
            )

    def release_credit(self, *, order_id: UUID) -> None:
        """Give back what a cancelled order held: the saga's compensation.

        Nothing to give back for an order that was refused, or never answered.
        """
        amount = self.reservations.get(str(order_id))
        if self.deleted or amount is None:
            return
        self.record(
            EventType.CREDIT_RELEASED,
            {
                "customer_id": str(self.id),
                "order_id": str(order_id),
                "amount": _money(amount),
            },
        )

    def _require_live(self) -> None:
        if self.deleted:
            raise ApplicationError("the customer has been deleted")

    # Events -----------------------------------------------------------------

    def when_CustomerRegistered(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.name = payload["name"]
        self.email = payload["email"]
        self.address = payload["address"]

    def when_CustomerImported(self, payload: dict[str, Any]) -> None:  # noqa: N802
        # The opening event of a customer that existed before the platform
        # kept events (``strangler.introduce_events``): its whole state.
        self.name = payload["name"]
        self.email = payload["email"]
        self.address = payload["address"]
        self.reservations = {
            order_id: Decimal(amount)
            for order_id, amount in payload["reservations"].items()
        }
        self.credit_decided = set(self.reservations)

    def when_CustomerRenamed(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.name = payload["name"]

    def when_CustomerEmailChanged(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.email = payload["email"]

    def when_CustomerAddressChanged(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.address = payload["address"]

    def when_CustomerDeleted(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.deleted = True

    def when_CustomerDeletionRejected(self, payload: dict[str, Any]) -> None:  # noqa: N802
        pass  # a refusal changes nothing; the history keeps it

    def when_CreditReserved(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.credit_decided.add(payload["order_id"])
        self.reservations[payload["order_id"]] = Decimal(payload["amount"])

    def when_CreditLimitExceeded(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.credit_decided.add(payload["order_id"])

    def when_CreditReleased(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.reservations.pop(payload["order_id"], None)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):.2f}"

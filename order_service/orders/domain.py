"""The Order aggregate: commands in the imperative, events in the past tense."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self
from uuid import UUID

from shared_events.errors import ApplicationError
from shared_events.events import EventType
from shared_events.write_side import Aggregate

PLACED = "placed"
CANCELLED = "cancelled"
REJECTED = "rejected"


def without_negative_zero(value: Decimal) -> Decimal:
    """``value``, with -0 (and -0.00) as 0.

    A client may send "-0": it is a valid price of nothing, but Decimal keeps
    its sign, and "-0.00" in an event breaks the catalog's pattern for money.
    """
    return value.copy_abs() if value.is_zero() else value


@dataclass(frozen=True)
class OrderLineValue:
    sku: str
    quantity: int
    unit_price: Decimal

    def __post_init__(self) -> None:
        # Normalised once, here, before any event or row is built from it.
        object.__setattr__(self, "unit_price", without_negative_zero(self.unit_price))

    @property
    def total(self) -> Decimal:
        return self.quantity * self.unit_price

    def as_payload(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "quantity": self.quantity,
            "unit_price": money(self.unit_price),
        }


def money(value: Decimal) -> str:
    return f"{without_negative_zero(value.quantize(Decimal('0.01'))):.2f}"


@dataclass
class OrderAggregate(Aggregate):
    aggregate_type = "Order"

    customer_id: UUID | None = None
    status: str = ""
    lines: list[OrderLineValue] = field(default_factory=list)
    total: Decimal = Decimal("0")
    cancel_reason: str = ""

    # Commands ---------------------------------------------------------------

    @classmethod
    def place(
        cls, *, order_id: UUID, customer_id: UUID, lines: Sequence[OrderLineValue]
    ) -> Self:
        if not lines:
            raise ApplicationError("an order needs at least one line", field="lines")
        order = cls(id=order_id)
        total = sum((line.total for line in lines), Decimal("0"))
        order.record(
            EventType.ORDER_PLACED,
            {
                "order_id": str(order_id),
                "customer_id": str(customer_id),
                "lines": [line.as_payload() for line in lines],
                "total": money(total),
            },
        )
        return order

    @classmethod
    def reject(cls, *, order_id: UUID, customer_id: UUID, reason: str) -> Self:
        """Record a refused placement: the paper keeps failed commands too."""
        order = cls(id=order_id)
        order.record(
            EventType.ORDER_REJECTED,
            {
                "order_id": str(order_id),
                "customer_id": str(customer_id),
                "reason": reason,
            },
        )
        return order

    def cancel(self, *, reason: str = "customer_request") -> None:
        if self.status == CANCELLED:
            raise ApplicationError("the order is already cancelled", field="status")
        if self.status != PLACED:
            raise ApplicationError(f"a {self.status} order cannot be cancelled")
        self.record(
            EventType.ORDER_CANCELLED,
            {
                "order_id": str(self.id),
                "customer_id": str(self.customer_id),
                "reason": reason,
            },
        )

    # Events -----------------------------------------------------------------

    def when_OrderPlaced(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.customer_id = UUID(payload["customer_id"])
        self.status = PLACED
        self.lines = [
            OrderLineValue(
                sku=line["sku"],
                quantity=line["quantity"],
                unit_price=Decimal(line["unit_price"]),
            )
            for line in payload["lines"]
        ]
        self.total = Decimal(payload["total"])

    def when_OrderRejected(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.customer_id = UUID(payload["customer_id"])
        self.status = REJECTED

    def when_OrderCancelled(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.status = CANCELLED
        self.cancel_reason = payload["reason"]

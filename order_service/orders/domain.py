"""The Order aggregate: commands in the imperative, events in the past tense.

An order is placed PENDING and becomes APPROVED or REJECTED by the credit
rule: at once, in the same transaction, where the order service checks the
limit itself (approaches 1 to 3), or when the customer service answers
(approaches 4 and 5, the credit saga).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self
from uuid import UUID

from shared_events.errors import ApplicationError
from shared_events.events import EventType
from shared_events.write_side import Aggregate

PENDING = "pending"
APPROVED = "approved"
CANCELLED = "cancelled"
REJECTED = "rejected"
# An order that holds (or waits for) credit, and may be cancelled.
OPEN = (PENDING, APPROVED)
# The reason of an order refused by the credit rule.
CREDIT_LIMIT_EXCEEDED = "credit_limit_exceeded"


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
    reject_reason: str = ""

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

    @property
    def placed(self) -> bool:
        """The order was placed (its lines exist), whatever became of it."""
        return bool(self.lines)

    def approve(self) -> bool:
        """Approve a pending order; False (nothing recorded) if it is not pending.

        A late answer to an order cancelled meanwhile changes nothing: the
        customer service gives the credit back when the cancellation reaches it.
        """
        if self.status != PENDING:
            return False
        self.record(
            EventType.ORDER_APPROVED,
            {"order_id": str(self.id), "customer_id": str(self.customer_id)},
        )
        return True

    def refuse_credit(self) -> bool:
        """Reject a pending order over the credit limit; False if not pending."""
        if self.status != PENDING:
            return False
        self.record(
            EventType.ORDER_REJECTED,
            {
                "order_id": str(self.id),
                "customer_id": str(self.customer_id),
                "reason": CREDIT_LIMIT_EXCEEDED,
            },
        )
        return True

    def cancel(self, *, reason: str = "customer_request") -> None:
        if self.status == CANCELLED:
            raise ApplicationError("the order is already cancelled", field="status")
        if self.status not in OPEN:
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
        self.status = PENDING
        self.lines = [
            OrderLineValue(
                sku=line["sku"],
                quantity=line["quantity"],
                unit_price=Decimal(line["unit_price"]),
            )
            for line in payload["lines"]
        ]
        self.total = Decimal(payload["total"])

    def when_OrderImported(self, payload: dict[str, Any]) -> None:  # noqa: N802
        # The opening event of an order that existed before the platform kept
        # events (``strangler.introduce_events``): its whole state.
        self.customer_id = UUID(payload["customer_id"])
        self.status = payload["status"]
        self.lines = [
            OrderLineValue(
                sku=line["sku"],
                quantity=line["quantity"],
                unit_price=Decimal(line["unit_price"]),
            )
            for line in payload["lines"]
        ]
        self.total = Decimal(payload["total"])

    def when_OrderApproved(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.status = APPROVED

    def when_OrderRejected(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.customer_id = UUID(payload["customer_id"])
        self.status = REJECTED
        self.reject_reason = payload["reason"]

    def when_OrderCancelled(self, payload: dict[str, Any]) -> None:  # noqa: N802
        self.status = CANCELLED
        self.cancel_reason = payload["reason"]

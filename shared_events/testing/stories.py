"""Stories told as both services' events, for replay and rebuild tests.

A :class:`Story` makes customers and their orders happen at random (seeded):
registrations, renames, email and address changes, deletions (with the
cancellations of the deleted customer's open orders that follow), refused
deletions, placed, cancelled and rejected orders, and the credit saga
(the customer's answer to an order, the order approved or rejected, the
credit of a cancelled order released). Every envelope goes
through ``encode``/``from_json`` as through the queue, so a payload the
catalog would refuse fails here.

:meth:`Story.arrival_order` interleaves the two services' events as a
consumer might receive them; :meth:`Story.deliveries` adds what at-least-once
delivery adds: an event delivered again, a later event of an aggregate
before an earlier one.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from shared_events.events import EventEnvelope, encode, from_json, new_envelope

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


class Story:
    """Customers and their orders, told as two services' events."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.clock = T0
        self.versions: dict[UUID, int] = {}
        self.customer_events: list[EventEnvelope] = []
        self.order_events: list[EventEnvelope] = []
        self.live_customers: list[UUID] = []
        self.open_orders: dict[UUID, UUID] = {}
        # Open orders the credit saga has not answered yet, and the approved
        # ones whose credit their customer holds.
        self.pending: dict[UUID, str] = {}
        self.reserved: dict[UUID, str] = {}
        self.registered = 0

    def _new_id(self) -> UUID:
        # From the seed, so that one seed always tells the same story.
        return UUID(int=self.random.getrandbits(128), version=4)

    def _record(self, aggregate_type, aggregate_id, event_type, payload):
        self.versions[aggregate_id] = self.versions.get(aggregate_id, 0) + 1
        self.clock += timedelta(milliseconds=self.random.randint(1, 900))
        envelope = new_envelope(
            event_type=event_type,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            aggregate_version=self.versions[aggregate_id],
            producer=aggregate_type.lower(),
            payload=payload,
            occurred_at=self.clock,
        )
        envelope = from_json(encode(envelope))  # as the queue carries it
        target = (
            self.customer_events if aggregate_type == "Customer" else self.order_events
        )
        target.append(envelope)
        return envelope

    def register(self) -> EventEnvelope:
        customer_id, number = self._new_id(), self.registered
        self.registered += 1
        self.live_customers.append(customer_id)
        return self._record(
            "Customer",
            customer_id,
            "CustomerRegistered",
            {
                "customer_id": str(customer_id),
                "name": f"Customer {number}",
                "email": f"customer{number}@example.com",
                "address": f"{number} Replay Road",
            },
        )

    def step(self) -> None:
        roll, pick = self.random.random(), self.random.choice
        if self.pending and self.random.random() < 0.3:
            self._answer(pick(sorted(self.pending)))
        if roll < 0.4 and self.live_customers:
            self._place(pick(self.live_customers))
        elif roll < 0.55 and self.open_orders:
            self._cancel(pick(sorted(self.open_orders)), "customer_request")
        elif roll < 0.8 and self.live_customers:
            customer_id = pick(self.live_customers)
            event_type, field = pick(
                [
                    ("CustomerRenamed", "name"),
                    ("CustomerEmailChanged", "email"),
                    ("CustomerAddressChanged", "address"),
                ]
            )
            value = f"{field} {self.random.randint(1, 10**6)}"
            if field == "email":
                value = f"changed{self.random.randint(1, 10**6)}@example.com"
            self._record(
                "Customer",
                customer_id,
                event_type,
                {"customer_id": str(customer_id), field: value},
            )
        elif roll < 0.9 and len(self.live_customers) > 2:
            customer_id = pick(self.live_customers)
            self.live_customers.remove(customer_id)
            self._record(
                "Customer",
                customer_id,
                "CustomerDeleted",
                {"customer_id": str(customer_id)},
            )
            for order_id, owner in sorted(self.open_orders.items()):
                if owner == customer_id:
                    self._cancel(order_id, "customer_deleted")
        elif roll < 0.93 and self.live_customers:
            customer_id = pick(self.live_customers)
            self._record(
                "Customer",
                customer_id,
                "CustomerDeletionRejected",
                {"customer_id": str(customer_id), "reason": "open orders"},
            )
        elif roll < 0.96:
            # The order service's replica did not know the customer (yet).
            customer_id = pick([*self.live_customers, self._new_id()])
            order_id = self._new_id()
            self._record(
                "Order",
                order_id,
                "OrderRejected",
                {
                    "order_id": str(order_id),
                    "customer_id": str(customer_id),
                    "reason": "unknown customer",
                },
            )
        else:
            self.register()

    def _place(self, customer_id: UUID) -> None:
        order_id = self._new_id()
        lines = [
            {
                "sku": f"SKU-{self.random.randint(1, 50)}",
                "quantity": self.random.randint(1, 4),
                "unit_price": f"{self.random.randint(100, 9999) / 100:.2f}",
            }
            for _ in range(self.random.randint(1, 3))
        ]
        total = sum(Decimal(line["unit_price"]) * line["quantity"] for line in lines)
        self.open_orders[order_id] = customer_id
        self.pending[order_id] = f"{total:.2f}"
        self._record(
            "Order",
            order_id,
            "OrderPlaced",
            {
                "order_id": str(order_id),
                "customer_id": str(customer_id),
                "lines": lines,
                "total": f"{total:.2f}",
            },
        )

    def _answer(self, order_id: UUID) -> None:
        """The credit saga: the customer's answer, then the order's."""
        customer_id, amount = self.open_orders[order_id], self.pending.pop(order_id)
        reserved = self.random.random() < 0.7
        ids = {"customer_id": str(customer_id), "order_id": str(order_id)}
        if reserved:
            self.reserved[order_id] = amount
            self._record(
                "Customer", customer_id, "CreditReserved", {**ids, "amount": amount}
            )
            self._record("Order", order_id, "OrderApproved", ids)
            return
        self._record(
            "Customer",
            customer_id,
            "CreditLimitExceeded",
            {**ids, "amount": amount, "available": "0.00"},
        )
        del self.open_orders[order_id]
        self._record(
            "Order",
            order_id,
            "OrderRejected",
            {**ids, "reason": "credit_limit_exceeded"},
        )

    def _cancel(self, order_id: UUID, reason: str) -> None:
        customer_id = self.open_orders.pop(order_id)
        self.pending.pop(order_id, None)
        amount = self.reserved.pop(order_id, None)
        if amount is not None and customer_id in self.live_customers:
            self._record(
                "Customer",
                customer_id,
                "CreditReleased",
                {
                    "customer_id": str(customer_id),
                    "order_id": str(order_id),
                    "amount": amount,
                },
            )
        self._record(
            "Order",
            order_id,
            "OrderCancelled",
            {
                "order_id": str(order_id),
                "customer_id": str(customer_id),
                "reason": reason,
            },
        )

    def arrival_order(self) -> list[EventEnvelope]:
        """Both services' events as a consumer might receive them.

        Each service's events keep their order (so every aggregate's
        versions do); how the two interleave is left to chance.
        """
        customer, order = list(self.customer_events), list(self.order_events)
        arrived = []
        while customer or order:
            take_customer = customer and (not order or self.random.random() < 0.5)
            arrived.append((customer if take_customer else order).pop(0))
        return arrived

    def deliveries(self, *, again: float = 0.1, early: float = 0.1) -> list:
        """The arrival order, with redeliveries and too-early deliveries mixed in.

        After an event, with probability ``again``, one already delivered
        comes again (a duplicate). Before an event, with probability
        ``early``, a later event of the same aggregate comes first (held).
        """
        arrived = self.arrival_order()
        later: dict[str, list[EventEnvelope]] = {}
        for envelope in arrived:
            later.setdefault(envelope.aggregate_id, []).append(envelope)
        delivered: list[EventEnvelope] = []
        for envelope in arrived:
            stream = later[envelope.aggregate_id]
            stream.pop(0)
            if stream and self.random.random() < early:
                delivered.append(self.random.choice(stream))
            delivered.append(envelope)
            if self.random.random() < again:
                delivered.append(self.random.choice(delivered))
        return delivered


def told(seed: int, *, customers: int, steps: int) -> Story:
    story = Story(seed)
    for _ in range(customers):
        story.register()
    for _ in range(steps):
        story.step()
    return story

"""Where the order service keeps Order aggregates.

``OrderStateTable`` is the ``orders_order``/``orders_orderline`` pair seen as
current state: the whole truth in approaches 1 to 3, a cached state written
in the same transaction as the events in approaches 4 and 5.
"""

from __future__ import annotations

from uuid import UUID

from django.utils import timezone

from order_service.orders.domain import (
    CANCELLED,
    REJECTED,
    OrderAggregate,
    OrderLineValue,
)
from order_service.orders.models import Order, OrderLine
from shared_events.errors import ConcurrencyConflict
from shared_events.repositories import StateTable


class OrderStateTable(StateTable[OrderAggregate]):
    def load(self, aggregate_id: UUID) -> OrderAggregate | None:
        row = Order.objects.prefetch_related("lines").filter(id=aggregate_id).first()
        if row is None:
            return None
        return OrderAggregate(
            id=row.id,
            version=row.version,
            customer_id=row.customer_id,
            status=row.status,
            total=row.total,
            lines=[
                OrderLineValue(
                    sku=line.sku, quantity=line.quantity, unit_price=line.unit_price
                )
                for line in row.lines.all()
            ],
        )

    def write(self, aggregate: OrderAggregate, *, expected_version: int) -> None:
        if aggregate.status == REJECTED:
            # A rejected placement is a fact worth keeping (the event store
            # keeps it), but it is not an order.
            return
        if expected_version == 0 and not Order.objects.filter(id=aggregate.id).exists():
            order = Order.objects.create(
                id=aggregate.id,
                version=aggregate.version,
                customer_id=aggregate.customer_id,
                status=aggregate.status,
                total=aggregate.total,
            )
            OrderLine.objects.bulk_create(
                OrderLine(
                    order=order,
                    position=position,
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
                for position, line in enumerate(aggregate.lines, start=1)
            )
            return
        now = timezone.now()
        changed = Order.objects.filter(
            id=aggregate.id, version=expected_version
        ).update(
            version=aggregate.version,
            status=aggregate.status,
            cancelled_at=now if aggregate.status == CANCELLED else None,
            updated_at=now,
        )
        if not changed:
            raise ConcurrencyConflict(
                f"order {aggregate.id} was changed by someone else since version "
                f"{expected_version}; reload it and try again"
            )

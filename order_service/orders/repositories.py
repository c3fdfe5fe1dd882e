"""Where the order service keeps Order aggregates.

``OrderStateTable`` is the ``orders_order``/``orders_orderline`` pair seen as
current state: the whole truth in approaches 1 to 3, a cached state written
in the same transaction as the events in approaches 4 and 5.
"""

from __future__ import annotations

from uuid import UUID

from django.db import router
from django.utils import timezone

from order_service.orders.domain import CANCELLED, OrderAggregate, OrderLineValue
from order_service.orders.models import Order, OrderLine
from shared_events.write_side import (
    StateTable,
    insert_state_row,
    refuse_stale_write,
)


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

    def keeps_row(self, aggregate: OrderAggregate) -> bool:
        return aggregate.placed

    def write(
        self, aggregate: OrderAggregate, *, expected_version: int
    ) -> Order | None:
        """Store the order's state; the new row, with its lines, when this
        write created it."""
        if not aggregate.placed:
            # A refused placement is a fact worth keeping (the event store
            # keeps it), but it is not an order. (An order placed, then
            # rejected by the credit rule, is one: its row says "rejected".)
            return None
        now = timezone.now()
        if expected_version == 0 and (row := self._insert(aggregate, now)):
            lines = OrderLine.objects.bulk_create(
                OrderLine(
                    order=row,
                    position=position,
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
                for position, line in enumerate(aggregate.lines, start=1)
            )
            return _with_lines(row, lines)
        changed = Order.objects.filter(
            id=aggregate.id, version=expected_version
        ).update(
            version=aggregate.version,
            status=aggregate.status,
            cancelled_at=now if aggregate.status == CANCELLED else None,
            updated_at=now,
        )
        if not changed:
            refuse_stale_write(
                router.db_for_write(Order),
                aggregate="order",
                aggregate_id=aggregate.id,
                expected_version=expected_version,
            )
        return None

    @staticmethod
    def _insert(aggregate: OrderAggregate, now) -> Order | None:
        """Insert the new order's row; None when the id was already there."""
        row = Order(
            id=aggregate.id,
            customer_id=aggregate.customer_id,
            status=aggregate.status,
            total=aggregate.total,
            version=aggregate.version,
            created_at=now,
            updated_at=now,
        )
        return row if insert_state_row(row) else None


def _with_lines(row: Order, lines: list[OrderLine]) -> Order:
    """The row with its lines attached the way ``prefetch_related`` attaches
    them, so that rendering the new order reads nothing back."""
    prefetched = row.lines.all()
    prefetched._result_cache = lines
    prefetched._prefetch_done = True
    row._prefetched_objects_cache = {"lines": prefetched}
    return row

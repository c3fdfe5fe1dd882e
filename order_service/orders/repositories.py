"""Where the order service keeps Order aggregates.

``OrderStateTable`` is the ``orders_order``/``orders_orderline`` pair seen as
current state: the whole truth in approaches 1 to 3, a cached state written
in the same transaction as the events in approaches 4 and 5.
"""

from __future__ import annotations

from uuid import UUID

from django.db import connections, router
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
from shared_events.transactions import refuse_transaction

# A new order's row in one statement, without asking first whether it exists:
# a row already there under this id (one written outside the aggregate) is
# left alone and updated like any other.
_INSERT = (
    "INSERT INTO orders_order (id, customer_id, status, total, version,"
    " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (id) DO NOTHING"
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

    def write(self, aggregate: OrderAggregate, *, expected_version: int) -> None:
        if aggregate.status == REJECTED:
            # A rejected placement is a fact worth keeping (the event store
            # keeps it), but it is not an order.
            return
        now = timezone.now()
        if expected_version == 0 and self._insert(aggregate, now):
            OrderLine.objects.bulk_create(
                OrderLine(
                    order_id=aggregate.id,
                    position=position,
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
                for position, line in enumerate(aggregate.lines, start=1)
            )
            return
        changed = Order.objects.filter(
            id=aggregate.id, version=expected_version
        ).update(
            version=aggregate.version,
            status=aggregate.status,
            cancelled_at=now if aggregate.status == CANCELLED else None,
            updated_at=now,
        )
        if not changed:
            # The events may already be appended: never let them commit alone.
            refuse_transaction(router.db_for_write(Order))
            raise ConcurrencyConflict(
                f"order {aggregate.id} was changed by someone else since version "
                f"{expected_version}; reload it and try again"
            )

    @staticmethod
    def _insert(aggregate: OrderAggregate, now) -> bool:
        """Insert the new order's row; False when the id was already there."""
        with connections[router.db_for_write(Order)].cursor() as cursor:
            cursor.execute(
                _INSERT,
                (
                    aggregate.id,
                    aggregate.customer_id,
                    aggregate.status,
                    aggregate.total,
                    aggregate.version,
                    now,
                    now,
                ),
            )
            return cursor.rowcount == 1

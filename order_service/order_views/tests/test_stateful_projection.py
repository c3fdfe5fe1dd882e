"""OrderView under random commands and random, repeated, early deliveries.

The state machine (``shared_events.testing.stateful``) runs customer and
order commands on the real aggregates and delivers their events to the
read-side consumer in any order production could: interleaved across
aggregates, twice, too early. What a learner should see proven:

* after every step, each OrderView row is its order as the events applied so
  far leave it, with its customer's *current* details copied in (one rename
  reaches every order of the customer, including an order projected before
  the customer's registration); each OrderViewCustomer row is the customer;
* once the consumer has caught up, the rows are the fold of the whole
  write side;
* emptying the read side and replaying the log gives the same tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from service_kit.testing.read_side import skip_unless_read_side

skip_unless_read_side()

from order_service.order_views.models import OrderView, OrderViewCustomer  # noqa: E402
from order_service.order_views.projections import PROJECTION_HANDLERS  # noqa: E402
from order_service.order_views.tests.projection_support import CONSUMER  # noqa: E402
from order_service.orders import domain as order_domain  # noqa: E402
from shared_events.events import AggregateType, EventEnvelope, EventType  # noqa: E402
from shared_events.testing.read_model_contract import ReadModelFoldContract  # noqa: E402
from shared_events.testing.stateful import (  # noqa: E402
    COPY_NEUTRAL_EVENTS,
    ReadModelMachine,
    Row,
    WriteSide,
    import_from_peer_service,
)


def customer_row(write_side: WriteSide, customer_id: UUID) -> Row:
    return {
        "customer_version": write_side.customer_version(customer_id),
        **write_side.customer_details(customer_id),
    }


def order_view_row(write_side: WriteSide, order_id: UUID) -> Row:
    order = write_side.orders[order_id]
    customer = write_side.customer_details(order.customer_id)
    return {
        "order_version": order.version,
        "customer_id": order.customer_id,
        **{f"customer_{name}": value for name, value in customer.items()},
        "status": order.status,
        "cancel_reason": order.cancel_reason,
        "total": order.total,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": f"{line.unit_price:.2f}",
            }
            for line in order.lines
        ],
        "placed_at": write_side.placed_at[order_id],
        "cancelled_at": write_side.cancelled_at.get(order_id),
    }


class OrderViewMachine(ReadModelMachine):
    consumer = CONSUMER
    handlers = PROJECTION_HANDLERS
    customer_domain = import_from_peer_service("customer_service.customers.domain")
    order_domain = order_domain
    expected_rows = {OrderView: order_view_row, OrderViewCustomer: customer_row}

    def last_written(
        self, events: Sequence[EventEnvelope]
    ) -> dict[tuple[type, UUID], EventEnvelope]:
        # A customer event writes the customer's copy and every order of
        # theirs projected so far; an order's placement and cancellation
        # write its view, and a placement makes the customer's copy (empty)
        # if nothing had; its approval, rejection and cancellation write its
        # view. A placement refused outright, and the customer's credit
        # answers, write nothing.
        last_written: dict[tuple[type, UUID], EventEnvelope] = {}
        orders_of: dict[UUID, list[UUID]] = {}
        placed: set[UUID] = set()
        for envelope in events:
            aggregate_id = UUID(envelope.aggregate_id)
            if envelope.aggregate_type == AggregateType.CUSTOMER:
                if envelope.event_type in COPY_NEUTRAL_EVENTS:
                    continue
                last_written[OrderViewCustomer, aggregate_id] = envelope
                for order_id in orders_of.get(aggregate_id, []):
                    last_written[OrderView, order_id] = envelope
            elif envelope.event_type == EventType.ORDER_PLACED:
                customer_id = UUID(envelope.payload["customer_id"])
                last_written[OrderView, aggregate_id] = envelope
                last_written.setdefault((OrderViewCustomer, customer_id), envelope)
                orders_of.setdefault(customer_id, []).append(aggregate_id)
                placed.add(aggregate_id)
            elif aggregate_id in placed:
                last_written[OrderView, aggregate_id] = envelope
        return last_written


class TestOrderViewFold(ReadModelFoldContract):
    machine = OrderViewMachine

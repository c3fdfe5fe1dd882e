"""CustomerSummary under random commands and random, repeated, early deliveries.

The state machine (``shared_events.testing.stateful``) runs customer and
order commands on the real aggregates and delivers their events to the
read-side consumer in any order production could: interleaved across
aggregates, twice, too early. What a learner should see proven:

* after every step, each CustomerSummary and SummaryOrder row is what the
  events applied so far add up to, computed here in plain Python from the
  folded aggregates: name, email, address, deleted, version, the order
  counts, the lifetime value (the totals of orders not cancelled) and the
  latest placement;
* once the consumer has caught up, the rows are the fold of the whole
  write side;
* emptying the read side and replaying the log gives the same tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

from service_kit.testing.read_side import skip_unless_read_side

skip_unless_read_side()

from customer_service.customers import domain as customer_domain  # noqa: E402
from customer_service.summaries.models import CustomerSummary, SummaryOrder  # noqa: E402
from customer_service.summaries.projections import PROJECTION_HANDLERS  # noqa: E402
from customer_service.summaries.tests.projection_support import CONSUMER  # noqa: E402
from shared_events.events import AggregateType, EventEnvelope, EventType  # noqa: E402
from shared_events.testing.read_model_contract import ReadModelFoldContract  # noqa: E402
from shared_events.testing.stateful import (  # noqa: E402
    APPROVED,
    COPY_NEUTRAL_EVENTS,
    PENDING,
    ReadModelMachine,
    Row,
    WriteSide,
    import_from_peer_service,
)


def summary_row(write_side: WriteSide, customer_id: UUID) -> Row:
    orders = [
        order
        for order in write_side.orders.values()
        if order.customer_id == customer_id and order.placed
    ]
    open_orders = [order for order in orders if order.status in (PENDING, APPROVED)]
    return {
        **write_side.customer_details(customer_id),
        "registered": customer_id in write_side.customers,
        "customer_version": write_side.customer_version(customer_id),
        "order_count": len(orders),
        "open_order_count": len(open_orders),
        "lifetime_value": sum((order.total for order in open_orders), Decimal("0")),
        "last_order_at": max(
            (write_side.placed_at[order.id] for order in orders), default=None
        ),
    }


def summary_order_row(write_side: WriteSide, order_id: UUID) -> Row:
    order = write_side.orders[order_id]
    return {
        "customer_id": order.customer_id,
        "total": order.total,
        "status": order.status,
    }


class CustomerSummaryMachine(ReadModelMachine):
    consumer = CONSUMER
    handlers = PROJECTION_HANDLERS
    customer_domain = customer_domain
    order_domain = import_from_peer_service("order_service.orders.domain")
    expected_rows = {CustomerSummary: summary_row, SummaryOrder: summary_order_row}

    def last_written(
        self, events: Sequence[EventEnvelope]
    ) -> dict[tuple[type, UUID], EventEnvelope]:
        # A customer's own changes and the placements, cancellations and
        # rejections of their orders write their summary; those and an
        # approval write the order's SummaryOrder. A placement refused
        # outright, and the customer's credit answers, write nothing.
        last_written: dict[tuple[type, UUID], EventEnvelope] = {}
        placed: set[UUID] = set()
        for envelope in events:
            order_id = UUID(envelope.aggregate_id)
            if envelope.aggregate_type == AggregateType.CUSTOMER:
                if envelope.event_type not in COPY_NEUTRAL_EVENTS:
                    last_written[CustomerSummary, order_id] = envelope
                continue
            if envelope.event_type == EventType.ORDER_PLACED:
                placed.add(order_id)
            if order_id not in placed:
                continue
            if envelope.event_type != EventType.ORDER_APPROVED:
                customer_id = UUID(envelope.payload["customer_id"])
                last_written[CustomerSummary, customer_id] = envelope
            last_written[SummaryOrder, order_id] = envelope
        return last_written


class TestCustomerSummaryFold(ReadModelFoldContract):
    machine = CustomerSummaryMachine

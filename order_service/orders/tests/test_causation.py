"""An event caused by another continues its story (``caused_by``).

The order service's consumer applies a CustomerDeleted; the OrderCancelled
its handler records keeps the deletion's correlation id, names it as its
cause and continues its trace, so the whole chain reads as one in the event
store, in the logs and in a tracing UI.
"""

import pytest

from order_service.orders.handlers import EVENT_HANDLERS
from order_service.orders.tests.consumer_support import (
    CONSUMER_NAME,
    deleted,
    registered,
)
from order_service.orders.tests.test_consumer import customer_with_orders
from shared_events.consume import apply_event
from shared_events.events import EventType
from shared_events.models import StoredEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("event_sourcing")]


def trace_id(traceparent: str) -> str:
    return traceparent.split("-")[1]


def test_an_order_cancelled_by_a_deletion_carries_its_correlation_cause_and_trace(
    customer_directory,
):
    customer_id, (order,) = customer_with_orders(customer_directory, orders=1)
    for envelope in (
        registered(customer_id),
        deletion := deleted(customer_id, version=2),
    ):
        apply_event(
            consumer=CONSUMER_NAME,
            envelope=envelope,
            handlers=EVENT_HANDLERS[envelope.event_type],
        )

    placed, cancelled = StoredEvent.objects.filter(aggregate_id=order.id).order_by(
        "aggregate_version"
    )

    assert cancelled.event_type == EventType.ORDER_CANCELLED
    assert cancelled.metadata["correlation_id"] == str(deletion.correlation_id)
    assert cancelled.metadata["causation_id"] == str(deletion.event_id)
    traceparent = cancelled.metadata["trace_context"]["traceparent"]
    assert trace_id(traceparent) == trace_id(deletion.traceparent)
    assert traceparent != deletion.traceparent  # a span of its own
    # The placement, recorded outside any consumer, started a story of its own.
    assert placed.metadata["causation_id"] is None

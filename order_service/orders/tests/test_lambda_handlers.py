"""``order_service.functions.consume_events``: the consumer as a Lambda handler.

The contract (``shared_events.testing.lambda_contract``) feeds the real
module recorded AWS event documents (SQS, SQS via SNS, Kinesis, DynamoDB
Streams) and checks what the order service makes of a customer's story: the
replica registers, renames and deletes the customer, and the deletion
cancels the customer's open orders, each exactly once. Wired for event
sourcing (approach 4): the approach whose consumer keeps the replica.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

import pytest

from order_service import wiring
from order_service.functions import project_events
from order_service.orders.customers import CustomerSnapshot
from order_service.orders.models import CustomerReplica, Order, OrderStatus
from order_service.orders.services import LineRequest, order_place
from shared_events.consume.lambda_handler import ReadSideMissing
from shared_events.events import EventEnvelope
from shared_events.testing import projection_events as event
from shared_events.testing.aws_events import SQS, aws_event
from shared_events.testing.lambda_contract import LambdaHandlerContract

ORDERS_PER_CUSTOMER = 2


class TestConsumeEvents(LambdaHandlerContract):
    function = "order_service.functions.consume_events"
    consumer = "order"
    service_wiring = wiring

    @pytest.fixture(autouse=True)
    def wired(self, event_sourcing) -> None:
        """Event sourcing, with the fake customer directory the orders need."""

    def story(self) -> list[EventEnvelope]:
        """Ada, with two open orders, registers, is renamed, is deleted."""
        customer_id = uuid.uuid4()
        wiring.current().customer_directory.add(
            CustomerSnapshot(
                id=customer_id, name="Ada Lovelace", email="ada@example.com"
            )
        )
        line = LineRequest(sku="BOOK-1", quantity=1, unit_price=Decimal("10.00"))
        for _ in range(ORDERS_PER_CUSTOMER):
            order_place(customer_id=customer_id, lines=[line])
        return [
            event.registered(customer_id),
            event.renamed(customer_id, "Ada King", version=2),
            event.deleted(customer_id, version=3),
        ]

    def effect(self, story: Sequence[EventEnvelope]) -> tuple:
        customer_id = uuid.UUID(story[0].aggregate_id)
        replica = (
            CustomerReplica.objects.filter(id=customer_id)
            .values_list("name", "deleted", "version")
            .first()
        )
        statuses = list(
            Order.objects.filter(customer_id=customer_id).values_list(
                "status", flat=True
            )
        )
        return replica, statuses

    def expected_effect(self, story: Sequence[EventEnvelope], applied: int) -> tuple:
        replica = [
            None,
            ("Ada Lovelace", False, 1),
            ("Ada King", False, 2),
            ("Ada King", True, 3),
        ][applied]
        status = OrderStatus.CANCELLED if applied == 3 else OrderStatus.PENDING
        return replica, [status] * ORDERS_PER_CUSTOMER


def test_project_events_says_the_approach_has_no_read_side(settings):
    settings.ARCHITECTURE_APPROACH = "event_sourcing"
    settings.APPROACH_HAS_READ_SIDE = False

    with pytest.raises(ReadSideMissing, match="approach event_sourcing has no read"):
        project_events.handler(aws_event(SQS, ["{}"]), None)

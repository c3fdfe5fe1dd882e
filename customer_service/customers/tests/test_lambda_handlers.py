"""``customer_service.functions.consume_events``: the consumer as a Lambda handler.

The customer service reacts to no order event yet, but its consumer records
each one, in order: its effect is its records. The contract
(``shared_events.testing.lambda_contract``) feeds the real module recorded
AWS event documents (SQS, SQS via SNS, Kinesis, DynamoDB Streams) with an
order's story and checks the cursor it keeps. Wired for event sourcing
(approach 4).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest

from customer_service import wiring
from customer_service.functions import project_events
from shared_events.consume.lambda_handler import ReadSideMissing, tracking_name
from shared_events.events import EventEnvelope
from shared_events.models import AggregateCursor
from shared_events.testing import projection_events as event
from shared_events.testing.aws_events import SQS, aws_event
from shared_events.testing.lambda_contract import LambdaHandlerContract


class TestConsumeEvents(LambdaHandlerContract):
    function = "customer_service.functions.consume_events"
    consumer = "customer"
    service_wiring = wiring

    @pytest.fixture(autouse=True)
    def wired(self, event_sourcing) -> None:
        """Event sourcing: the customer service keeps an event store."""

    def story(self) -> list[EventEnvelope]:
        """An order is placed, then cancelled."""
        order_id, customer_id = uuid.uuid4(), uuid.uuid4()
        return [
            event.placed(order_id, customer_id),
            event.cancelled(order_id, customer_id),
        ]

    def effect(self, story: Sequence[EventEnvelope]) -> int:
        """The version the consumer's cursor stands at for the order (0: none)."""
        cursor = AggregateCursor.objects.filter(
            consumer=tracking_name(self.consumer), aggregate_id=story[0].aggregate_id
        ).first()
        return cursor.version if cursor else 0

    def expected_effect(self, story: Sequence[EventEnvelope], applied: int) -> int:
        return applied


def test_project_events_says_the_approach_has_no_read_side(settings):
    settings.ARCHITECTURE_APPROACH = "event_sourcing"
    settings.APPROACH_HAS_READ_SIDE = False

    with pytest.raises(ReadSideMissing, match="approach event_sourcing has no read"):
        project_events.handler(aws_event(SQS, ["{}"]), None)

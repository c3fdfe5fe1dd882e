"""``customer_service.functions.project_events``: the read side's projector as a
Lambda handler (approach 5).

The contract (``shared_events.testing.lambda_contract``) feeds the real
module recorded AWS event documents (SQS, SQS via SNS, Kinesis, DynamoDB
Streams: the paper's DynamoDB, Streams, Lambda, Aurora) and checks the read
database: the customer's summary follows her story, once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from customer_service import wiring
from customer_service.summaries.models import CustomerSummary
from shared_events.events import EventEnvelope
from shared_events.testing import projection_events as event
from shared_events.testing.lambda_contract import LambdaHandlerContract


class TestProjectEvents(LambdaHandlerContract):
    function = "customer_service.functions.project_events"
    consumer = "customer-read"
    database = "read"
    service_wiring = wiring
    handlers_field = "projection_handlers"

    def story(self) -> list[EventEnvelope]:
        customer_id = uuid.uuid4()
        return [
            event.registered(customer_id),
            event.renamed(customer_id, "Ada King", version=2),
            event.deleted(customer_id, version=3),
        ]

    def effect(self, story: Sequence[EventEnvelope]) -> tuple | None:
        return (
            CustomerSummary.objects.filter(customer_id=story[0].aggregate_id)
            .values_list("name", "registered", "deleted", "customer_version")
            .first()
        )

    def expected_effect(
        self, story: Sequence[EventEnvelope], applied: int
    ) -> tuple | None:
        return [
            None,
            ("Ada Lovelace", True, False, 1),
            ("Ada King", True, False, 2),
            ("Ada King", True, True, 3),
        ][applied]

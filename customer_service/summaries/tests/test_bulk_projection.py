"""CustomerSummary rows: the rebuild's bulk path leaves what the consumer leaves.

Random stories of both services' events are delivered both ways and every row
compared; the summary's state machine also delivers in bulk
(``shared_events.testing.read_model_contract``).
"""

from __future__ import annotations

from service_kit.testing.read_side import skip_unless_read_side

skip_unless_read_side()

from customer_service.summaries.projections import PROJECTION_HANDLERS  # noqa: E402
from customer_service.summaries.tests.projection_support import CONSUMER  # noqa: E402
from customer_service.summaries.tests.test_stateful_projection import (  # noqa: E402
    CustomerSummaryMachine,
)
from shared_events.testing.read_model_contract import ReadModelBulkContract  # noqa: E402


class TestCustomerSummaryInBulk(ReadModelBulkContract):
    consumer = CONSUMER
    handlers = PROJECTION_HANDLERS
    machine = CustomerSummaryMachine

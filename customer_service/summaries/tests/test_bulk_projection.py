"""The rebuild's bulk path leaves the CustomerSummary rows the live consumer leaves.

``rebuild_read_models`` folds each chunk of events in memory and writes it
with one statement per table (``shared_events.bulk_projection``); the live
read-side consumer applies one event per transaction (``apply_event``). Both
run the same ``PROJECTION_HANDLERS``. The contract
(``shared_events.testing.bulk_equivalence``) delivers random stories of both
services' events both ways and compares every row.
"""

from __future__ import annotations

import pytest
from django.conf import settings

if not settings.APPROACH_HAS_READ_SIDE:
    pytest.skip(
        "read models are approach 5's: run under ARCHITECTURE_APPROACH=cqrs_es",
        allow_module_level=True,
    )

from customer_service.summaries.projections import PROJECTION_HANDLERS  # noqa: E402
from customer_service.summaries.tests.projection_support import CONSUMER  # noqa: E402
from shared_events.testing.bulk_equivalence import (  # noqa: E402
    BulkEquivalenceContract,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "read"])


class TestCustomerSummaryInBulk(BulkEquivalenceContract):
    consumer = CONSUMER
    handlers = PROJECTION_HANDLERS

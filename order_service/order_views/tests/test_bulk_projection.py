"""The rebuild's bulk path leaves the OrderView rows the live consumer leaves.

``rebuild_read_models`` folds each chunk of events in memory and writes it
with one statement per table (``shared_events.bulk_projection``); the live
read-side consumer applies one event per transaction (``apply_event``). Both
run the same ``PROJECTION_HANDLERS``. The contract
(``shared_events.testing.bulk_equivalence``) delivers random stories of both
services' events both ways and compares every row; the state machine of
``test_stateful_projection`` gets rules that deliver in bulk, so the bulk
path is also checked against the fold of the events.
"""

from __future__ import annotations

import pytest
from django.conf import settings

if not settings.APPROACH_HAS_READ_SIDE:
    pytest.skip(
        "read models are approach 5's: run under ARCHITECTURE_APPROACH=cqrs_es",
        allow_module_level=True,
    )

from hypothesis.stateful import run_state_machine_as_test  # noqa: E402

from order_service.order_views.projections import PROJECTION_HANDLERS  # noqa: E402
from order_service.order_views.tests.projection_support import CONSUMER  # noqa: E402
from order_service.order_views.tests.test_stateful_projection import (  # noqa: E402
    OrderViewMachine,
)
from shared_events.testing.bulk_equivalence import (  # noqa: E402
    BulkDeliveryMachine,
    BulkEquivalenceContract,
)
from shared_events.testing.stateful import MACHINE_SETTINGS  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "read"])


class TestOrderViewInBulk(BulkEquivalenceContract):
    consumer = CONSUMER
    handlers = PROJECTION_HANDLERS


class OrderViewBulkMachine(OrderViewMachine, BulkDeliveryMachine):
    """The order view machine, whose consumer may also take messages in bulk."""


def test_in_bulk_too_the_order_view_is_the_fold_of_the_events():
    run_state_machine_as_test(OrderViewBulkMachine, settings=MACHINE_SETTINGS)

"""OrderView rows, rebuilt in bulk, are those the live consumer leaves
(``shared_events.testing.read_model_contract``, with the machine of
``test_stateful_projection``).
"""

from __future__ import annotations

from service_kit.testing.read_side import skip_unless_read_side

skip_unless_read_side()

from order_service.order_views.projections import PROJECTION_HANDLERS  # noqa: E402
from order_service.order_views.tests.projection_support import CONSUMER  # noqa: E402
from order_service.order_views.tests.test_stateful_projection import OrderViewMachine  # noqa: E402
from shared_events.testing.read_model_contract import ReadModelBulkContract  # noqa: E402


class TestOrderViewInBulk(ReadModelBulkContract):
    consumer = CONSUMER
    handlers = PROJECTION_HANDLERS
    machine = OrderViewMachine

"""The customer summaries in the admin: read from the read database, read-only."""

import uuid

import pytest

from customer_service.summaries.tests.projection_support import project
from service_kit.testing.read_model_admin import ReadModelAdminContract
from shared_events.testing import projection_events as event

pytestmark = pytest.mark.django_db(databases=["default", "read"])


class TestCustomerSummaryAdmin(ReadModelAdminContract):
    @pytest.fixture
    def projected(self):
        ada, order = uuid.uuid4(), uuid.uuid4()
        project(
            event.registered(ada, name="Ada Lovelace", email="ada@example.com"),
            event.placed(order, ada, lines=[("BOOK-1", 1, "10.00")], minutes=1),
        )
        return {
            "summaries_customersummary": (ada, "Ada Lovelace"),
            "summaries_summaryorder": (order, str(order)),
        }

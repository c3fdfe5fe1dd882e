"""The order views in the admin: read from the read database, read-only."""

import uuid

import pytest

from order_service.order_views.tests.projection_support import project
from service_kit.testing.read_model_admin import ReadModelAdminContract
from shared_events.testing import projection_events as event

pytestmark = pytest.mark.django_db(databases=["default", "read"])


class TestOrderViewAdmin(ReadModelAdminContract):
    @pytest.fixture
    def projected(self):
        ada, order = uuid.uuid4(), uuid.uuid4()
        project(
            event.registered(ada, name="Ada Lovelace", email="ada@example.com"),
            event.placed(order, ada, lines=[("BOOK-1", 1, "10.00")], minutes=1),
        )
        return {
            "order_views_orderview": (order, str(order)),
            "order_views_orderviewcustomer": (ada, "Ada Lovelace"),
        }

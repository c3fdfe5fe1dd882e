"""The order service's API against its own OpenAPI schema, by schemathesis
(``service_kit.testing.schema_conformance``), under a state table and under
the event store; some paths name a real order. Then the hand-made odd bodies
(``service_kit.testing.odd_bodies``) against every write operation.

The customer directory is a fake that knows every customer id, so generated
placements get past the customer check and reach the order's own rules.
"""

import uuid
from decimal import Decimal

import pytest

from order_service import bootstrap
from order_service.config.wsgi import application
from order_service.orders.customers import CustomerSnapshot
from order_service.orders.services import LineRequest, order_place
from order_service.orders.tests.fakes import FakeCustomerDirectory
from service_kit.testing.odd_bodies import OddBodyContract
from service_kit.testing.schema_conformance import (
    BOUNDED,
    answers_as_documented,
    load_schema,
)

schema = load_schema(application)


class EveryCustomerKnown(FakeCustomerDirectory):
    def get(self, customer_id: uuid.UUID) -> CustomerSnapshot | None:
        self._check_available()
        return CustomerSnapshot(
            id=customer_id, name="Ada Lovelace", email="ada@example.com"
        )

    def confirm_in_transaction(self, customer_id: uuid.UUID) -> bool:
        return True

    def get_many(self, customer_ids):
        return {customer_id: self.get(customer_id) for customer_id in customer_ids}


@pytest.fixture
def every_customer_known(approach):
    # After ``approach``: the event-sourced wiring is built first, then this
    # directory replaces the one it keeps.
    with bootstrap.overridden(customer_directory=EveryCustomerKnown()):
        yield


@pytest.fixture
def order(db, every_customer_known):
    return order_place(
        customer_id=uuid.uuid4(),
        lines=[LineRequest(sku="BOOK-1", quantity=2, unit_price=Decimal("9.50"))],
    ).order


@schema.parametrize()
@BOUNDED
def test_the_api_answers_as_its_schema_says(
    case, every_customer_known, token_header, order
):
    answers_as_documented(case, token_header, order_id=order.id)


class TestOddBodies(OddBodyContract):
    @pytest.fixture
    def path_ids(self, order):
        return {"order_id": order.id}

    @pytest.fixture
    def write_bodies(self, order):
        return {
            "POST /api/orders/place/": {
                "customer_id": str(order.customer_id),
                "lines": [{"sku": "BOOK-1", "quantity": 1, "unit_price": "9.50"}],
            },
            "POST /api/orders/{order_id}/cancel/": {"expected_version": 1},
        }

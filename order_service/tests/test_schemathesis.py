"""The order service's API against its own OpenAPI schema, by schemathesis
(``service_kit.testing.schema_conformance``); some paths name a real order.

The customer directory is a fake that knows every customer id, so generated
placements get past the customer check and reach the order's own rules.
"""

import uuid
from decimal import Decimal

import pytest
import schemathesis

from order_service import bootstrap
from order_service.config.wsgi import application
from order_service.orders.customers import CustomerSnapshot
from order_service.orders.services import LineRequest, order_place
from order_service.orders.tests.fakes import FakeCustomerDirectory
from service_kit.testing.schema_conformance import BOUNDED, answers_as_documented

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


class EveryCustomerKnown(FakeCustomerDirectory):
    def get(self, customer_id: uuid.UUID) -> CustomerSnapshot | None:
        self._check_available()
        return CustomerSnapshot(
            id=customer_id, name="Ada Lovelace", email="ada@example.com"
        )

    def get_many(self, customer_ids):
        return {customer_id: self.get(customer_id) for customer_id in customer_ids}


@pytest.fixture
def every_customer_known():
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

"""The order service's API against its own OpenAPI schema, by schemathesis.

Schemathesis reads ``/api/schema/`` (drf-spectacular) and sends generated
requests, valid and invalid, to every operation, in process through the WSGI
application, with a real DRF token. Each answer must be no 5xx, a documented
status code, and a body that matches the schema. Bounded and derandomized, so
the run is short and the same every time.

The customer directory is a fake that knows every customer id, so generated
placements get past the customer check and reach the order's own rules. A
generated id rarely names an order, so half of the valid UUIDs in paths are
swapped for the id of an order that exists.
"""

import uuid
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from order_service import bootstrap
from order_service.config.wsgi import application
from order_service.orders.customers import CustomerSnapshot
from order_service.orders.services import LineRequest, order_place
from order_service.orders.tests.fakes import FakeCustomerDirectory

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

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
def token_header(user, every_customer_known):
    # As Django's test client does: a request must not close the connection
    # that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def order(db, every_customer_known):
    return order_place(
        customer_id=uuid.uuid4(),
        lines=[LineRequest(sku="BOOK-1", quantity=2, unit_price=Decimal("9.50"))],
    ).order


def use_known_id(case, name: str, known: uuid.UUID) -> None:
    """Swap half of the valid UUIDs generated for ``name`` for ``known``."""
    try:
        generated = uuid.UUID(str((case.path_parameters or {})[name]))
    except (KeyError, ValueError):
        return
    if generated.int % 2 == 0:
        case.path_parameters[name] = str(known)


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_schema_says(case, token_header, order):
    use_known_id(case, "order_id", order.id)
    case.call_and_validate(headers=token_header, checks=CHECKS)

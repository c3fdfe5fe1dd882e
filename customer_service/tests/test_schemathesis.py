"""The customer service's API against its own OpenAPI schema, by schemathesis
(``service_kit.testing.schema_conformance``); some paths name a real customer.
"""

import pytest
import schemathesis

from customer_service.config.wsgi import application
from customer_service.customers.services import customer_register
from service_kit.testing.schema_conformance import BOUNDED, answers_as_documented

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def customer(db):
    return customer_register(
        name="Ada Lovelace", email="ada@example.com", address="12 St James's Square"
    )


@schema.parametrize()
@BOUNDED
def test_the_api_answers_as_its_schema_says(case, token_header, customer):
    answers_as_documented(case, token_header, customer_id=customer.id)

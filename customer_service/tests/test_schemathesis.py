"""The customer service's API against its own OpenAPI schema, by schemathesis
(``service_kit.testing.schema_conformance``), under a state table and under
the event store; some paths name a real customer. Then the hand-made odd
bodies (``service_kit.testing.odd_bodies``) against every write operation.
"""

import pytest

from customer_service.config.wsgi import application
from customer_service.customers.services import customer_register
from service_kit.testing.odd_bodies import OddBodyContract
from service_kit.testing.schema_conformance import (
    BOUNDED,
    answers_as_documented,
    load_schema,
)

schema = load_schema(application)


@pytest.fixture
def customer(approach):
    return customer_register(
        name="Ada Lovelace", email="ada@example.com", address="12 St James's Square"
    )


@schema.parametrize()
@BOUNDED
def test_the_api_answers_as_its_schema_says(case, token_header, customer):
    answers_as_documented(case, token_header, customer_id=customer.id)


class TestOddBodies(OddBodyContract):
    @pytest.fixture
    def path_ids(self, customer):
        return {"customer_id": customer.id}

    @pytest.fixture
    def write_bodies(self):
        return {
            "POST /api/customers/register/": {
                "name": "Grace Hopper",
                "email": "grace@example.com",
                "address": "1 Navy Yard",
            },
            "POST /api/customers/{customer_id}/update/": {
                "name": "Ada King",
                "email": "ada.king@example.com",
                "address": "Ockham Park",
            },
            "POST /api/customers/{customer_id}/delete/": {"expected_version": 1},
            "POST /api/auth/token/": {"username": "learner", "password": "wrong"},
            "POST /api/auth/token/refresh/": {"refresh": "not-a-token"},
        }

"""A customer's history and its state as of a version, over HTTP.

Under event sourcing the event store answers; under db_per_service (the
runner's approach) there is no history, and the answer says so.
"""

import uuid

import pytest

from customer_service import bootstrap
from customer_service.customers.models import Customer
from customer_service.customers.services import customer_register
from customer_service.customers.tests.api_support import (
    REGISTER_URL,
    delete_url,
    detail_url,
    update_url,
)
from service_kit.testing.history_api import HistoryApiContract
from service_kit.testing.routes import AggregateRoute
from shared_events.models import StoredEvent

pytestmark = pytest.mark.django_db

CORRELATION_ID = "6f1c2a5e-0b7d-4c1e-9a43-1f6d2b8e7c90"

history_url = AggregateRoute("customer-history", "customer_id")
as_of_url = AggregateRoute("customer-as-of", "customer_id")


@pytest.fixture
def ada(api_client, event_sourcing) -> uuid.UUID:
    """Registered, renamed, moved: three events, recorded through the API."""
    response = api_client.post(
        REGISTER_URL,
        {"name": "Ada", "email": "ada@example.com", "address": "London"},
        format="json",
        HTTP_X_CORRELATION_ID=CORRELATION_ID,
    )
    customer_id = response.json()["id"]
    for change in ({"name": "Ada Lovelace"}, {"address": "Ockham Park"}):
        api_client.post(update_url(customer_id), change, format="json")
    return uuid.UUID(customer_id)


class TestCustomerHistoryApi(HistoryApiContract):
    """What every history API answers (``service_kit.testing.history_api``)."""

    aggregate = "customer"
    composition_root = bootstrap
    recorded_events = [
        "CustomerRegistered",
        "CustomerRenamed",
        "CustomerAddressChanged",
    ]

    @pytest.fixture
    def recorded(self, ada) -> uuid.UUID:
        return ada

    @pytest.fixture
    def unrecorded(self) -> uuid.UUID:
        return customer_register(name="Ada", email="ada@example.com", address="X").id


# HISTORY
# ------------------------------------------------------------------------------


def test_history_gives_each_event_as_stored_with_its_correlation_id(api_client, ada):
    events = api_client.get(history_url(ada)).json()["results"]

    first = events[0]
    stored = StoredEvent.objects.get(aggregate_id=ada, aggregate_version=1)
    assert first == {
        "event_id": str(stored.event_id),
        "event_type": "CustomerRegistered",
        "schema_version": 1,
        "aggregate_version": 1,
        "occurred_at": first["occurred_at"],
        "recorded_at": first["recorded_at"],
        "payload": {
            "customer_id": str(ada),
            "name": "Ada",
            "email": "ada@example.com",
            "address": "London",
        },
        "correlation_id": CORRELATION_ID,
        "causation_id": None,
        "trace_context": stored.metadata["trace_context"],
    }
    assert first["occurred_at"].endswith("Z")
    assert events[1]["correlation_id"] != CORRELATION_ID  # another request


def test_history_is_paginated_by_limit_and_offset(api_client, ada):
    response = api_client.get(history_url(ada), {"limit": 1, "offset": 1})

    body = response.json()
    assert body["count"] == 3
    assert [event["aggregate_version"] for event in body["results"]] == [2]
    assert body["next"] is not None
    assert body["previous"] is not None


def test_a_deleted_customers_history_remains(api_client, ada):
    api_client.post(delete_url(ada))

    response = api_client.get(history_url(ada))

    assert not Customer.objects.filter(id=ada).exists()
    assert response.status_code == 200
    assert [event["event_type"] for event in response.json()["results"]][-1] == (
        "CustomerDeleted"
    )
    assert api_client.get(as_of_url(ada, version=4)).json()["deleted"] is True
    assert api_client.get(as_of_url(ada, version=3)).json()["deleted"] is False


# AS OF A VERSION
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "name", "address"),
    [
        (1, "Ada", "London"),
        (2, "Ada Lovelace", "London"),
        (3, "Ada Lovelace", "Ockham Park"),
    ],
)
def test_as_of_folds_the_events_up_to_the_version(
    api_client, ada, version, name, address
):
    response = api_client.get(as_of_url(ada, version=version))

    assert response.status_code == 200
    assert response.json() == {
        "id": str(ada),
        "version": version,
        "name": name,
        "email": "ada@example.com",
        "address": address,
        "deleted": False,
        "credit_reserved": "0.00",
        "reservations": {},
    }


def test_as_of_the_last_version_is_the_current_state(api_client, ada):
    current = api_client.get(detail_url(ada))

    as_of = api_client.get(as_of_url(ada, version=current.json()["version"]))

    for field in ("id", "version", "name", "email", "address"):
        assert as_of.json()[field] == current.json()[field]


# SCHEMA
# ------------------------------------------------------------------------------


def test_the_schema_documents_history_and_versions(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    components = schema["components"]["schemas"]

    history = paths["/api/customers/{customer_id}/history/"]["get"]
    assert {p["name"] for p in history["parameters"]} >= {"limit", "offset"}
    assert {"200", "404"} <= set(history["responses"])
    as_of = paths["/api/customers/{customer_id}/as-of/{version}/"]["get"]
    version = next(p for p in as_of["parameters"] if p["name"] == "version")
    assert version["schema"]["type"] == "integer"
    assert "400" in version["description"]
    for path in ("update", "delete"):
        post = paths[f"/api/customers/{{customer_id}}/{path}/"]["post"]
        assert "409" in post["responses"]
        body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        fields = components[body.rsplit("/", 1)[-1]]["properties"]
        assert fields["expected_version"]["minimum"] == 1
        assert "409" in fields["expected_version"]["description"]
    detail = paths["/api/customers/{customer_id}/"]["get"]["responses"]["200"]
    output = detail["content"]["application/json"]["schema"]["$ref"]
    assert "version" in components[output.rsplit("/", 1)[-1]]["properties"]

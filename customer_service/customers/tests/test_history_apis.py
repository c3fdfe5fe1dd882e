"""A customer's history and its state as of a version, over HTTP.

Under event sourcing the event store answers; under db_per_service (the
runner's approach) there is no history, and the answer says so.
"""

import uuid

import pytest
from django.urls import reverse

from customer_service import bootstrap
from customer_service.customers.models import Customer
from customer_service.customers.services import customer_register
from shared_events.approaches import Approach
from shared_events.models import StoredEvent
from shared_events.write_side import EventStoreHistory, NoHistory

pytestmark = pytest.mark.django_db

REGISTER_URL = reverse("customer-register")
CORRELATION_ID = "6f1c2a5e-0b7d-4c1e-9a43-1f6d2b8e7c90"


def history_url(customer_id) -> str:
    return reverse("customer-history", kwargs={"customer_id": customer_id})


def as_of_url(customer_id, version) -> str:
    return reverse(
        "customer-as-of", kwargs={"customer_id": customer_id, "version": version}
    )


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
        api_client.post(
            reverse("customer-update", kwargs={"customer_id": customer_id}),
            change,
            format="json",
        )
    return uuid.UUID(customer_id)


# HISTORY
# ------------------------------------------------------------------------------


def test_history_lists_the_stored_events_oldest_first(api_client, ada):
    response = api_client.get(history_url(ada))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    events = body["results"]
    assert [(event["aggregate_version"], event["event_type"]) for event in events] == [
        (1, "CustomerRegistered"),
        (2, "CustomerRenamed"),
        (3, "CustomerAddressChanged"),
    ]
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
    api_client.post(reverse("customer-delete", kwargs={"customer_id": ada}))

    response = api_client.get(history_url(ada))

    assert not Customer.objects.filter(id=ada).exists()
    assert response.status_code == 200
    assert [event["event_type"] for event in response.json()["results"]][-1] == (
        "CustomerDeleted"
    )
    assert api_client.get(as_of_url(ada, 4)).json()["deleted"] is True
    assert api_client.get(as_of_url(ada, 3)).json()["deleted"] is False


def test_history_of_an_unknown_id_is_404(api_client, event_sourcing):
    response = api_client.get(history_url(uuid.uuid4()))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


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
    response = api_client.get(as_of_url(ada, version))

    assert response.status_code == 200
    assert response.json() == {
        "id": str(ada),
        "version": version,
        "name": name,
        "email": "ada@example.com",
        "address": address,
        "deleted": False,
    }


def test_as_of_the_last_version_is_the_current_state(api_client, ada):
    current = api_client.get(reverse("customer-detail", kwargs={"customer_id": ada}))

    as_of = api_client.get(as_of_url(ada, current.json()["version"]))

    for field in ("id", "version", "name", "email", "address"):
        assert as_of.json()[field] == current.json()[field]


@pytest.mark.parametrize("version", [4, 1000, 10**30])
def test_as_of_a_version_not_reached_is_404_with_the_reason(api_client, ada, version):
    response = api_client.get(as_of_url(ada, version))

    assert response.status_code == 404
    assert response.json() == {
        "detail": (
            f"Customer {ada} has no version {version}: its last recorded version is 3"
        )
    }


def test_as_of_an_unknown_id_is_404(api_client, event_sourcing):
    response = api_client.get(as_of_url(uuid.uuid4(), 1))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("version", ["0", "-1", "abc", "1.5", "1e3", "%20"])
def test_as_of_a_version_that_is_not_a_positive_integer_is_400(
    api_client, ada, version
):
    response = api_client.get(f"/api/customers/{ada}/as-of/{version}/")

    assert response.status_code == 400
    assert list(response.json()) == ["version"]


# AUTHENTICATION, METHODS, OTHER APPROACHES
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [history_url, lambda i: as_of_url(i, 1)])
def test_history_needs_credentials(anonymous_client, url):
    response = anonymous_client.get(url(uuid.uuid4()))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("url", [history_url, lambda i: as_of_url(i, 1)])
def test_history_is_read_only(api_client, url):
    assert api_client.post(url(uuid.uuid4())).status_code == 405


@pytest.mark.parametrize("url", [history_url, lambda i: as_of_url(i, 1)])
def test_an_approach_without_an_event_store_says_it_keeps_no_history(api_client, url):
    customer = customer_register(name="Ada", email="ada@example.com", address="X")

    response = api_client.get(url(customer.id))

    assert response.status_code == 404
    detail = response.json()["detail"]
    assert detail.startswith(
        "approach db_per_service (2 of 5: database per service) keeps no customer "
        "history"
    )
    assert "event_sourcing, cqrs_es" in detail
    assert not StoredEvent.objects.exists()


@pytest.mark.parametrize(
    ("approach", "history"),
    [
        (Approach.SHARED_DB, NoHistory),
        (Approach.DB_PER_SERVICE, NoHistory),
        (Approach.DIRECT_PUBLISH, NoHistory),
        (Approach.EVENT_SOURCING, EventStoreHistory),
    ],
)
def test_the_composition_root_decides_who_keeps_a_history(approach, history):
    wiring = bootstrap.build_wiring(approach)

    assert type(wiring.customer_history) is history
    if history is EventStoreHistory:
        assert wiring.customer_history.repository is wiring.customer_repository


def test_the_schema_documents_history_and_versions(anonymous_client):
    schema = anonymous_client.get("/api/schema/", {"format": "json"}).json()
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

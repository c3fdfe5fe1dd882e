"""Optimistic concurrency: versions in the API, 409 for a stale write.

The HTTP tests run under both kinds of repository (a state table under
db_per_service, the event store under event_sourcing): ``expected_version``
means the same to a client either way. The acceptance test races two real
writers, each on its own database connection, against the event store.
"""

import threading
import uuid

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customer_service import bootstrap
from customer_service.accounts.services import customer_user_link
from customer_service.customers import services
from customer_service.customers.domain import CustomerAggregate
from customer_service.customers.models import Customer
from customer_service.customers.services import customer_register, customer_update
from customer_service.customers.tests.api_support import (
    REGISTER_URL,
    delete_url,
    detail_url,
    update_url,
)
from shared_events.models import OutboxMessage, StoredEvent
from shared_events.write_side import ConcurrencyConflict, Repository


@pytest.fixture
def ada(approach) -> Customer:
    """A customer at version 2 (registered, then renamed), through the service."""
    customer = customer_register(
        name="Ada", email="ada@example.com", address="12 Analytical Row"
    )
    return customer_update(customer=customer, name="Ada Lovelace")


def event_count(customer_id) -> int:
    return StoredEvent.objects.filter(aggregate_id=customer_id).count()


# VERSIONS IN THE API
# ------------------------------------------------------------------------------


def test_every_answer_carries_the_version(api_client, ada):
    assert api_client.get(detail_url(ada.id)).json()["version"] == 2

    response = api_client.post(
        update_url(ada.id), {"address": "Ockham Park"}, format="json"
    )

    assert response.json()["version"] == 3


def test_update_at_the_expected_version_succeeds(api_client, ada):
    response = api_client.post(
        update_url(ada.id),
        {"name": "Countess Lovelace", "expected_version": 2},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["version"]) == (
        "Countess Lovelace",
        3,
    )


def test_update_at_a_stale_version_is_409_and_changes_nothing(
    api_client, ada, approach
):
    events_before = event_count(ada.id)
    outbox_before = OutboxMessage.objects.count()

    response = api_client.post(
        update_url(ada.id),
        {"name": "Stale Write", "expected_version": 1},
        format="json",
    )

    assert response.status_code == 409
    assert response.json() == {
        "detail": (f"customer {ada.id} is at version 2, not 1; reload it and try again")
    }
    row = Customer.objects.get(id=ada.id)
    assert (row.name, row.version) == ("Ada Lovelace", 2)
    assert event_count(ada.id) == events_before
    assert OutboxMessage.objects.count() == outbox_before


def test_update_at_a_version_from_the_future_is_409_too(api_client, ada):
    response = api_client.post(
        update_url(ada.id), {"name": "X", "expected_version": 7}, format="json"
    )

    assert response.status_code == 409


def test_delete_at_a_stale_version_is_409_and_deletes_nothing(api_client, ada):
    events_before = event_count(ada.id)

    response = api_client.post(
        delete_url(ada.id), {"expected_version": 1}, format="json"
    )

    assert response.status_code == 409
    assert "is at version 2, not 1" in response.json()["detail"]
    assert Customer.objects.filter(id=ada.id).exists()
    assert event_count(ada.id) == events_before


def test_delete_at_the_expected_version_deletes(api_client, ada):
    response = api_client.post(
        delete_url(ada.id), {"expected_version": 2}, format="json"
    )

    assert response.status_code == 204
    assert not Customer.objects.filter(id=ada.id).exists()


@pytest.mark.parametrize("value", [0, -1, "two", 1.5, None, True])
@pytest.mark.parametrize("url", [update_url, delete_url])
def test_an_invalid_expected_version_is_400(api_client, ada, url, value):
    response = api_client.post(
        url(ada.id), {"name": "X", "expected_version": value}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["expected_version"]
    assert Customer.objects.get(id=ada.id).version == 2


def test_an_expected_version_alone_is_not_a_change(api_client, ada):
    response = api_client.post(
        update_url(ada.id), {"expected_version": 2}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["give at least one of name, email, address"]
    }


def test_a_stale_email_change_tells_nothing_of_other_customers_emails(ada):
    """A customer's own user, changing its email at a stale version, gets the
    same 409 for another customer's email as for a free one: the version is
    checked first, so a stale write cannot probe which emails are taken."""
    customer_register(
        name="Grace Hopper", email="grace@example.com", address="1 Navy Yard"
    )
    client = APIClient()
    ada_user = customer_user_link(username="ada", customer_id=ada.id)
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=ada_user)}"
    )

    def change_email(email, version):
        body = {"email": email, "expected_version": version}
        return client.post(update_url(ada.id), body, format="json")

    taken = change_email("GRACE@example.com", 1)
    free = change_email("nobody@example.com", 1)

    assert (taken.status_code, free.status_code) == (409, 409)
    assert taken.json() == free.json()
    # At the current version the email is checked, as registration checks it.
    current = change_email("grace@example.com", 2)
    assert current.status_code == 400
    assert current.json() == {"email": ["a customer with this email already exists"]}
    assert Customer.objects.get(id=ada.id).email == "ada@example.com"


# WHAT A CLIENT CANNOT SET
# ------------------------------------------------------------------------------

SERVER_OWNED = {
    "id": str(uuid.UUID("00000000-0000-4000-8000-00000000beef")),
    "version": 99,
    "status": "deleted",
    "total": "1000.00",
    "deleted": True,
    "created_at": "2001-01-01T00:00:00Z",
}


def test_register_ignores_fields_the_server_owns(api_client, approach):
    response = api_client.post(
        REGISTER_URL,
        {
            "name": "Grace",
            "email": "grace@example.com",
            "address": "Arlington",
            **SERVER_OWNED,
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["id"] != SERVER_OWNED["id"]
    assert body["version"] == 1
    assert set(body) == {
        "id",
        "version",
        "name",
        "email",
        "address",
        "credit_limit",
        "created_at",
        "updated_at",
    }
    row = Customer.objects.get()
    assert (str(row.id), row.version) == (body["id"], 1)
    assert row.created_at.year != 2001


def test_update_ignores_fields_the_server_owns(api_client, ada):
    response = api_client.post(
        update_url(ada.id), {"name": "Countess", **SERVER_OWNED}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["version"]) == (str(ada.id), 3)
    assert Customer.objects.get().version == 3


# TWO WRITERS, ONE VERSION (acceptance)
# ------------------------------------------------------------------------------


class LoadBothFirst(Repository[CustomerAggregate]):
    """The real repository, except that a load waits for the other writer's.

    Placed between load and save, the barrier makes the race certain instead
    of likely: both writers hold version N before either appends N + 1.
    """

    def __init__(self, inner: Repository[CustomerAggregate], barrier) -> None:
        self.inner = inner
        self.barrier = barrier

    def get(self, aggregate_id):
        aggregate = self.inner.get(aggregate_id)
        self.barrier.wait()
        return aggregate

    def save(self, aggregate):
        return self.inner.save(aggregate)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writes_at_one_version_one_wins_one_gets_409(
    event_sourcing, monkeypatch
):
    """The event store's guard, behind the row lock: with the lock taken away
    (commands lock the customer's row before they load it, so they take turns)
    two writers that loaded one version still cannot both append the next."""
    monkeypatch.setattr(services, "_lock_row", lambda customer_id: None)
    customer = customer_register(name="Ada", email="ada@example.com", address="X")
    customer = customer_update(customer=customer, name="Ada Lovelace")  # version 2
    barrier = threading.Barrier(2, timeout=20)
    outcomes: dict[str, object] = {}

    def write(name: str) -> None:
        try:
            row = Customer.objects.get(id=customer.id)
            customer_update(customer=row, name=name)
            outcomes[name] = "saved"
        except BaseException as error:  # reported by the assertions below
            outcomes[name] = error
        finally:
            connection.close()  # this thread's own connection

    racing = LoadBothFirst(event_sourcing.customer_repository, barrier)
    with bootstrap.overridden(customer_repository=racing):
        writers = [
            threading.Thread(target=write, args=(name,), name=name)
            for name in ("Left", "Right")
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=60)

    assert not any(writer.is_alive() for writer in writers)
    winners = [name for name, outcome in outcomes.items() if outcome == "saved"]
    conflicts = [
        outcome
        for outcome in outcomes.values()
        if isinstance(outcome, ConcurrencyConflict)
    ]
    assert len(winners) == 1, outcomes
    assert len(conflicts) == 1, outcomes
    assert "version 3 already exists" in conflicts[0].message
    assert (
        StoredEvent.objects.filter(
            aggregate_id=customer.id, aggregate_version=3
        ).count()
        == 1
    )
    assert event_count(customer.id) == 3
    assert OutboxMessage.objects.count() == 3
    row = Customer.objects.get(id=customer.id)
    assert (row.name, row.version) == (winners[0], 3)
    assert event_sourcing.customer_repository.get(customer.id).name == winners[0]

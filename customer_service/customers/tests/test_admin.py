"""The customer admin shows customers but cannot bypass the aggregate.

Every write goes through the API, so that it records events (under event
sourcing: in the event store and the outbox). Even a superuser gets 403.
"""

import pytest
from django.urls import reverse

from customer_service.customers.models import Customer
from customer_service.customers.services import customer_register
from shared_events.models import StoredEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("event_sourcing")]


@pytest.fixture
def ada() -> Customer:
    return customer_register(name="Ada", email="ada@example.com", address="London")


def test_staff_see_customers_with_their_version(admin_client, ada):
    changelist = admin_client.get(reverse("admin:customers_customer_changelist"))
    change = admin_client.get(reverse("admin:customers_customer_change", args=[ada.id]))

    assert changelist.status_code == change.status_code == 200
    assert "ada@example.com" in changelist.content.decode()
    assert 'name="_save"' not in change.content.decode()


def test_the_admin_cannot_add_change_or_delete_a_customer(admin_client, ada):
    add = admin_client.post(
        reverse("admin:customers_customer_add"),
        {"name": "Grace", "email": "grace@example.com", "address": "Arlington"},
    )
    change = admin_client.post(
        reverse("admin:customers_customer_change", args=[ada.id]),
        {"name": "Tampered", "email": "ada@example.com", "address": "London"},
    )
    delete = admin_client.post(
        reverse("admin:customers_customer_delete", args=[ada.id]), {"post": "yes"}
    )

    assert (add.status_code, change.status_code, delete.status_code) == (
        403,
        403,
        403,
    )
    assert list(Customer.objects.values_list("name", flat=True)) == ["Ada"]
    assert StoredEvent.objects.count() == 1

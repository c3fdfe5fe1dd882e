"""The customer admin shows customers but cannot bypass the aggregate
(``service_kit.testing.admin_contract``)."""

import pytest

from customer_service.customers.models import Customer
from customer_service.customers.services import customer_register
from service_kit.testing.admin_contract import ReadOnlyAggregateAdminContract

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("event_sourcing")]


class TestCustomerAdmin(ReadOnlyAggregateAdminContract):
    admin_name = "customers_customer"
    add_data = {"name": "Grace", "email": "grace@example.com", "address": "Arlington"}
    change_data = {"name": "Tampered", "email": "ada@example.com", "address": "London"}

    @pytest.fixture
    def aggregate(self) -> Customer:
        return customer_register(name="Ada", email="ada@example.com", address="London")

    def on_changelist(self, aggregate) -> str:
        return aggregate.email

    def assert_unchanged(self, aggregate) -> None:
        assert list(Customer.objects.values_list("name", flat=True)) == ["Ada"]

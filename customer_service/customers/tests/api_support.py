"""What the customer API tests share: the routes, a valid registration, a customer."""

from django.urls import reverse

from customer_service.customers.models import Customer
from service_kit.testing.routes import AggregateRoute

LIST_URL = reverse("customer-list")
REGISTER_URL = reverse("customer-register")
detail_url = AggregateRoute("customer-detail", "customer_id")
update_url = AggregateRoute("customer-update", "customer_id")
delete_url = AggregateRoute("customer-delete", "customer_id")


def valid_registration(**overrides) -> dict:
    return {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "address": "12 Analytical Row, London",
        **overrides,
    }


def make_customer(**overrides) -> Customer:
    """A customer row, written straight to the table (no service, no events)."""
    return Customer.objects.create(**valid_registration(**overrides))

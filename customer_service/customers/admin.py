from django.contrib import admin

from customer_service.customers.models import Customer
from shared_events.admin import ReadOnlyAdmin


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    """Customers, to look at only: every write goes through the API.

    Registering, changing and deleting a customer are commands on the
    Customer aggregate (``customer_service.customers.services``): they record
    events, and under event sourcing those events are appended to the event
    store and the outbox in the same transaction as this row. A save in the
    admin would change the row alone: no event, so no history, nothing for
    the order service's replica, and a row the event store no longer explains
    (and under direct_publish, nothing published either). So the admin offers
    no add, change or delete, under every approach.
    """

    list_display = ["name", "email", "version", "created_at"]
    search_fields = ["name", "email", "id"]
    fields = ["id", "name", "email", "address", "version", "created_at", "updated_at"]

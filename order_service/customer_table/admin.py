from django.contrib import admin

from order_service.customer_table.models import CustomerRow
from shared_events.admin import ReadOnlyAdmin


@admin.register(CustomerRow)
class CustomerRowAdmin(ReadOnlyAdmin):
    """Read-only: under shared_db the order service can see, not own, customers."""

    list_display = ["name", "email"]

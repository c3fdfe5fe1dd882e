from django.contrib import admin

from customer_service.accounts.models import CustomerAccount


@admin.register(CustomerAccount)
class CustomerAccountAdmin(admin.ModelAdmin):
    """Link users to customers: a linked user sees only that customer's data."""

    list_display = ["user", "customer_id", "created_at"]
    search_fields = ["user__username", "customer_id"]
    raw_id_fields = ["user"]

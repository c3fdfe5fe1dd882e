from django.contrib import admin

from order_service.customer_table.models import CustomerRow


@admin.register(CustomerRow)
class CustomerRowAdmin(admin.ModelAdmin):
    """Read-only: under shared_db the order service can see, not own, customers."""

    list_display = ["name", "email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

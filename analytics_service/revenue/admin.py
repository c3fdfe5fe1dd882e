from django.contrib import admin

from analytics_service.revenue.models import CountedOrder, DailyRevenue


@admin.register(DailyRevenue)
class DailyRevenueAdmin(admin.ModelAdmin):
    """Read-only: the rows are the events' to write."""

    list_display = ["day", "customer_id", "order_count", "revenue", "updated_at"]
    list_filter = ["day"]
    search_fields = ["customer_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CountedOrder)
class CountedOrderAdmin(admin.ModelAdmin):
    list_display = ["order_id", "customer_id", "day", "total", "counted", "closed_by"]
    list_filter = ["counted", "day"]
    search_fields = ["order_id", "customer_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

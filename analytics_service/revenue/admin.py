from django.contrib import admin

from analytics_service.revenue.models import CountedOrder, DailyRevenue
from shared_events.admin import ReadOnlyAdmin


@admin.register(DailyRevenue)
class DailyRevenueAdmin(ReadOnlyAdmin):
    """Read-only: the rows are the events' to write."""

    list_display = ["day", "customer_id", "order_count", "revenue", "updated_at"]
    list_filter = ["day"]
    search_fields = ["customer_id"]


@admin.register(CountedOrder)
class CountedOrderAdmin(ReadOnlyAdmin):
    list_display = ["order_id", "customer_id", "day", "total", "counted", "closed_by"]
    list_filter = ["counted", "day"]
    search_fields = ["order_id", "customer_id"]

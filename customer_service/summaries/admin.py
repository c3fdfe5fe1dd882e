from django.contrib import admin

from customer_service.summaries.models import CustomerSummary, SummaryOrder
from shared_events.admin import ReadModelAdmin


@admin.register(CustomerSummary)
class CustomerSummaryAdmin(ReadModelAdmin):
    list_display = [
        "name",
        "email",
        "order_count",
        "open_order_count",
        "lifetime_value",
        "deleted",
        "projected_at",
    ]
    list_filter = ["deleted"]
    search_fields = ["customer_id", "name", "email"]


@admin.register(SummaryOrder)
class SummaryOrderAdmin(ReadModelAdmin):
    list_display = ["order_id", "customer_id", "total", "status", "projected_at"]
    list_filter = ["status"]
    search_fields = ["order_id", "customer_id"]

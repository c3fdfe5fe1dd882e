from django.contrib import admin

from order_service.order_views.models import OrderView, OrderViewCustomer
from shared_events.admin import ReadModelAdmin


@admin.register(OrderView)
class OrderViewAdmin(ReadModelAdmin):
    list_display = [
        "order_id",
        "customer_name",
        "status",
        "total",
        "placed_at",
        "projected_at",
    ]
    list_filter = ["status", "customer_deleted"]
    search_fields = ["order_id", "customer_id", "customer_name", "customer_email"]


@admin.register(OrderViewCustomer)
class OrderViewCustomerAdmin(ReadModelAdmin):
    list_display = ["name", "email", "deleted", "customer_version", "projected_at"]
    list_filter = ["deleted"]
    search_fields = ["customer_id", "name", "email"]

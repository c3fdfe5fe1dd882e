from django.contrib import admin

from order_service.orders.models import Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    readonly_fields = ["position", "sku", "quantity", "unit_price"]
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "customer_id", "status", "total", "created_at"]
    list_filter = ["status"]
    search_fields = ["id", "customer_id"]
    readonly_fields = ["id", "customer_id", "total", "created_at", "updated_at"]
    inlines = [OrderLineInline]

from django.contrib import admin

from order_service.orders.models import CustomerReplica, Order, OrderLine
from shared_events.admin import ReadOnlyAdmin


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ["position", "sku", "quantity", "unit_price"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Orders, to look at only: placing and cancelling go through the API.

    Both are commands on the Order aggregate (``order_service.orders.services``):
    they record events, and under event sourcing those events are appended to
    the event store and the outbox in the same transaction as this row. A
    save in the admin would change the row alone: no event, no history, and
    a row the event store no longer explains. So the admin offers no add,
    change or delete, under every approach.
    """

    list_display = ["id", "customer_id", "status", "total", "version", "created_at"]
    list_filter = ["status"]
    search_fields = ["id", "customer_id"]
    fields = [
        "id",
        "customer_id",
        "status",
        "total",
        "version",
        "created_at",
        "updated_at",
        "cancelled_at",
    ]
    inlines = [OrderLineInline]


@admin.register(CustomerReplica)
class CustomerReplicaAdmin(ReadOnlyAdmin):
    """The order service's copy of customer data, to look at only.

    Its consumer keeps it from the customer service's events (approaches 3
    to 5); a row changed here would disagree with the events for good, and
    the next event of that customer would be measured against the wrong
    version.
    """

    list_display = ["name", "email", "version", "deleted", "updated_at"]
    fields = ["id", "name", "email", "address", "version", "deleted", "updated_at"]
    list_filter = ["deleted"]
    search_fields = ["id", "name", "email"]

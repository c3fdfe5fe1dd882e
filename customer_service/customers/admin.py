from django.contrib import admin

from customer_service.customers.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "created_at"]
    search_fields = ["name", "email"]
    readonly_fields = ["id", "created_at", "updated_at"]

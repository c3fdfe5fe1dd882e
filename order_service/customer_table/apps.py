from django.apps import AppConfig


class CustomerTableConfig(AppConfig):
    name = "order_service.customer_table"
    label = "customer_table"
    verbose_name = "Customer table (shared database)"

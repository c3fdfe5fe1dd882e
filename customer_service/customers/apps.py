from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customer_service.customers"
    label = "customers"
    verbose_name = "Customers"

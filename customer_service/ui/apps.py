from django.apps import AppConfig


class CustomerUiConfig(AppConfig):
    """The customer service's HTML fragments (no models)."""

    name = "customer_service.ui"
    label = "customer_ui"
    verbose_name = "Customer fragments"

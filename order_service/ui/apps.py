from django.apps import AppConfig


class OrderUiConfig(AppConfig):
    """The order service's HTML fragments (no models)."""

    name = "order_service.ui"
    label = "order_ui"
    verbose_name = "Order fragments"

from django.apps import AppConfig


class OrderViewsConfig(AppConfig):
    name = "order_service.order_views"
    label = "order_views"
    verbose_name = "Order views (read model)"
